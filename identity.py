"""Verified identity for the "through code" type: a JWT the site's server signs.

The site signs its user's data with the widget's identity secret (HS256) and the host page passes
the token as ``identity_token``. Anything else a host page says about its user could have been
typed into a browser console by anyone, so only a verified token may tie a visitor to an account
and its history.
"""

import jwt

# Claims that describe the token, not the user: never stored as user data.
TOKEN_CLAIMS = {"exp", "iat", "nbf", "aud", "iss", "jti", "sub"}
TOKEN_MAX_LENGTH = 4096
CLOCK_LEEWAY_SECONDS = 30


class IdentityError(Exception):
    """A token that does not prove who the user is; ``reason`` says why, for the site's developer.

    The reason never repeats the token or the secret.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def verify_identity_token(token, widget):
    """The claims of a token signed with ``widget``'s secret, with ``id`` as a string.

    Raises IdentityError when the token is missing, malformed, signed with another key or
    algorithm, without ``exp`` or expired (a leaked token must not open a history forever), or
    meant for another widget (``aud``, when present, must be its key).
    """
    if not isinstance(token, str) or not token.strip():
        raise IdentityError("missing")
    if len(token) > TOKEN_MAX_LENGTH:
        raise IdentityError("too long")
    try:
        claims = jwt.decode(
            token.strip(),
            widget.identity_secret,
            algorithms=["HS256"],
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as error:
        raise IdentityError("expired") from error
    except jwt.InvalidSignatureError as error:
        raise IdentityError("bad signature") from error
    except jwt.MissingRequiredClaimError as error:
        raise IdentityError("no exp claim: tokens must expire") from error
    except jwt.PyJWTError as error:  # malformed, wrong algorithm, unusable key...
        raise IdentityError("malformed") from error
    if "aud" in claims and claims["aud"] != widget.key:
        raise IdentityError("meant for another widget")
    user_id = claims.get("id", claims.get("sub"))
    if user_id is None or isinstance(user_id, bool) or not str(user_id).strip():
        raise IdentityError("no id claim")
    user = {key: value for key, value in claims.items() if key not in TOKEN_CLAIMS}
    user["id"] = str(user_id).strip()
    return user
