#!/usr/bin/env python3
"""The simulator's token endpoint as wxc-sdk's Integration.refresh sees it (the SDK's own
refresh grant, an independent client): a refresh answers tokens its strict model takes,
the access token works for GET /people/me, a wrong secret is a 400 with a Webex error
body.

usage: wxc_sdk_refresh_check.py BASE_URL CLIENT_ID CLIENT_SECRET REFRESH_TOKEN
Run it with API_MODEL_ALLOW_EXTRA=forbid.
"""
import sys

import requests
from wxc_sdk import WebexSimpleApi
from wxc_sdk.integration import Integration
from wxc_sdk.rest import RestSession
from wxc_sdk.tokens import Tokens


def main(base: str, client_id: str, secret: str, refresh_token: str) -> None:
    RestSession.BASE = base.rstrip("/")
    token_service = f"{base.rstrip('/')}/access_token"
    integration = Integration(client_id=client_id, client_secret=secret, scopes="spark:kms",
                              redirect_url="http://localhost:6001/redirect", token_service=token_service)
    tokens = Tokens(refresh_token=refresh_token)
    integration.refresh(tokens=tokens)
    assert tokens.access_token, tokens
    assert tokens.expires_in == 1209600 and tokens.refresh_token_expires_in == 7776000, tokens
    assert tokens.refresh_token == refresh_token, "no rotation by default"
    me = WebexSimpleApi(tokens=tokens.access_token).people.me()
    assert me.display_name and me.org_id, me
    # the raw answer, as the docs spell it
    raw = requests.post(token_service, data={"grant_type": "refresh_token", "client_id": client_id,
                                             "client_secret": secret, "refresh_token": refresh_token})
    assert raw.status_code == 200 and raw.json()["token_type"] == "Bearer", raw.text

    bad = Integration(client_id=client_id, client_secret="wrong", scopes="spark:kms",
                      redirect_url="http://localhost:6001/redirect", token_service=token_service)
    try:
        bad.refresh(tokens=Tokens(refresh_token=refresh_token))
        raise AssertionError("a wrong secret was accepted")
    except requests.HTTPError as e:
        assert e.response.status_code == 400, e.response.status_code
        body = e.response.json()
        assert body["message"] and body["errors"][0]["description"] and body["trackingId"], body
    print("wxc-sdk refresh check: ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
