# pip install pyjwt
import os
import time

import jwt  # PyJWT


def frontdesk_identity_token(user):
    """The signed identity of your signed-in user, for window.frontdeskSettings.identity_token."""
    claims = {
        "id": str(user["id"]),  # required: your own, stable user id
        "name": user["name"],
        "email": user["email"],
        "plan": user.get("plan"),  # any other field agents should see
        "exp": int(time.time()) + 3600,  # valid for an hour
    }
    return jwt.encode(claims, os.environ["FRONTDESK_IDENTITY_SECRET"], algorithm="HS256")
