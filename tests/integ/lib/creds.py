"""creds — credentials made here, independently of ferry's own code: a JWT
signed HS256 (signaling join tokens) and the TURN REST password of
draft-uberti-behave-turn-rest-00 (time-limited TURN credentials)."""


def jwt_hs256(claims, secret, header=None):
    """A JWT (RFC 7519) signed HS256 with secret, made here independently
    of ferry's own code."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=")
    h = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(secret.encode(), h + b"." + p, hashlib.sha256).digest())
    return (h + b"." + p + b"." + sig).decode()


def turn_rest_password(secret, username):
    """draft-uberti-behave-turn-rest-00: base64(HMAC-SHA1(secret, username))."""
    import base64
    import hashlib
    import hmac
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()
