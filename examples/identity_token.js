// npm install jsonwebtoken
const jwt = require("jsonwebtoken");

function frontdeskIdentityToken(user) {
  const claims = {
    id: String(user.id), // required: your own, stable user id
    name: user.name,
    email: user.email,
    plan: user.plan, // any other field agents should see
  };
  return jwt.sign(claims, process.env.FRONTDESK_IDENTITY_SECRET, {
    algorithm: "HS256",
    expiresIn: "1h",
  });
}

module.exports = { frontdeskIdentityToken };
