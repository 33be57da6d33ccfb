#!/usr/bin/env python3
"""Drive the ecbn-sync simulator with the wxc-sdk Python SDK (an independent, widely used
Webex Calling client). Any model validation error, unexpected status or wrong value fails.

usage: wxc_sdk_check.py BASE_URL   (e.g. http://127.0.0.1:PORT/v1; token admin-token)
Run it with API_MODEL_ALLOW_EXTRA=forbid: the SDK's strict models then refuse any field
or enum value they do not know.
"""
import sys

from wxc_sdk import WebexSimpleApi
from wxc_sdk.person_settings.ecbn import SelectedECBN
from wxc_sdk.rest import RestError, RestSession


def val(x):
    return getattr(x, "value", x)


def main(base: str) -> None:
    RestSession.BASE = base.rstrip("/")
    api = WebexSimpleApi(tokens="admin-token")

    # people listing with calling data, followed across pages (Link: rel="next")
    people = list(api.people.list(calling_data=True, max=7))
    assert len(people) == 30, f"expected 30 people, got {len(people)}"
    by_email = {p.emails[0]: p for p in people}
    ana = by_email["ana.silva@example.com"]
    ben = by_email["ben.okafor@example.com"]
    assert ana.location_id, "callingData gives locationId"
    one = list(api.people.list(email="lena.vogel@example.com", calling_data=True))
    assert len(one) == 1 and one[0].display_name == "Lena Vogel", one

    ecbn = api.person_settings.ecbn
    # read: every block validates against the SDK's models (enums included)
    for p in people:
        e = ecbn.read(p.person_id)
        assert e.selected is not None
        assert e.direct_line_info is not None and e.location_ecbn_info is not None
        d = ecbn.dependencies(p.person_id)
        assert d.dependent_member_count is not None and d.is_location_ecbn_default is not None
    assert ecbn.dependencies(ana.person_id).dependent_member_count == 2

    # configure, then read back
    ecbn.configure(ben.person_id, selected=SelectedECBN.location_member_number, location_member_id=ana.person_id)
    e = ecbn.read(ben.person_id)
    assert val(e.selected) == "LOCATION_MEMBER_NUMBER", e.selected
    assert e.location_member_info.member_id == ana.person_id
    assert val(e.location_member_info.member_type) == "PEOPLE"
    assert ecbn.dependencies(ana.person_id).dependent_member_count == 3
    ecbn.configure(ben.person_id, selected=SelectedECBN.direct_line)
    assert ecbn.dependencies(ana.person_id).dependent_member_count == 2

    # API errors come back as Webex error bodies the SDK understands
    eva = by_email["eva.novak@example.com"]  # no number of her own
    try:
        ecbn.configure(ben.person_id, selected=SelectedECBN.location_member_number, location_member_id=eva.person_id)
        raise AssertionError("a target without a number must be refused")
    except RestError as err:
        assert err.response.status_code == 400, err
        assert "27402" in str(err.description) or "27402" in str(err), err

    # ECBN available numbers of a person
    nums = list(api.person_settings.available_numbers.ecbn(ben.person_id, phone_number=["+14085550190"]))
    assert len(nums) == 1 and nums[0].owner.owner_id, nums

    # workspaces with Webex Calling, followed across pages
    from wxc_sdk.workspaces import CallingType
    workspaces = list(api.workspaces.list(calling=CallingType.webex, max=2))
    assert len(workspaces) == 3, workspaces
    by_name = {w.display_name: w for w in workspaces}
    lobby, room = by_name["HQ Lobby"], by_name["HQ Break Room"]
    assert lobby.location_id == ana.location_id
    ws_ecbn = api.workspace_settings.ecbn
    for w in workspaces:
        e = ws_ecbn.read(w.workspace_id)
        assert e.selected is not None and e.location_ecbn_info is not None
        assert ws_ecbn.dependencies(w.workspace_id).dependent_member_count is not None
    assert val(ws_ecbn.read(lobby.workspace_id).direct_line_info.quality) == "RECOMMENDED"
    # a workspace with no number of its own points at another one, then back
    ws_ecbn.configure(room.workspace_id, selected=SelectedECBN.location_member_number, location_member_id=lobby.workspace_id)
    e = ws_ecbn.read(room.workspace_id)
    assert val(e.selected) == "LOCATION_MEMBER_NUMBER" and val(e.location_member_info.member_type) == "PLACE", e
    assert ws_ecbn.dependencies(lobby.workspace_id).dependent_member_count == 1
    ws_ecbn.configure(room.workspace_id, selected=SelectedECBN.location_ecbn)
    nums = list(api.workspace_settings.available_numbers.ecbn(room.workspace_id, phone_number=["+14085550195"]))
    assert len(nums) == 1 and val(nums[0].owner.owner_type) == "VIRTUAL_LINE", nums

    # virtual lines
    vls = list(api.telephony.virtual_lines.list(max=1))
    assert len(vls) == 1 and vls[0].first_name == "Security", vls
    desk = vls[0]
    vl_ecbn = api.telephony.virtual_lines.ecbn
    e = vl_ecbn.read(desk.id)
    # [doc] a virtual line's number is NOT_RECOMMENDED
    assert val(e.direct_line_info.quality) == "NOT_RECOMMENDED", e
    assert vl_ecbn.dependencies(desk.id).dependent_member_count == 1, "Dev uses the desk"
    vl_ecbn.configure(desk.id, selected=SelectedECBN.location_member_number, location_member_id=lobby.workspace_id)
    assert val(vl_ecbn.read(desk.id).selected) == "LOCATION_MEMBER_NUMBER"
    vl_ecbn.configure(desk.id, selected=SelectedECBN.direct_line)
    nums = list(api.telephony.virtual_lines.available_numbers.ecbn(desk.id, phone_number=["+14085550190"]))
    assert len(nums) == 1 and nums[0].owner.owner_id == lobby.workspace_id, nums

    # a location's own ECBN: read, pointed at a member and back, its available numbers;
    # the locations listing, followed across pages
    from wxc_sdk.telephony.location import CallBackSelected
    locations = list(api.locations.list(max=2))
    assert [l.name for l in locations] == ["HQ", "Austin", "London"], locations
    hq = locations[0]
    assert hq.location_id == ana.location_id
    loc = api.telephony.location
    e = loc.read_ecbn(hq.location_id)
    assert val(e.selected) == "LOCATION_NUMBER" and e.location_info.name == "HQ", e
    assert val(e.location_info.effective_level) == "LOCATION_NUMBER", e
    loc.update_ecbn(hq.location_id, selected=CallBackSelected.location_member_number, location_member_id=ana.person_id)
    e = loc.read_ecbn(hq.location_id)
    assert val(e.selected) == "LOCATION_MEMBER_NUMBER" and e.location_member_info.member_id == ana.person_id, e
    assert ecbn.dependencies(ana.person_id).is_location_ecbn_default, "Ana is the location's ECBN"
    loc.update_ecbn(hq.location_id, selected=CallBackSelected.location_number)
    assert not ecbn.dependencies(ana.person_id).is_location_ecbn_default
    nums = list(loc.ecbn_available_phone_numbers(hq.location_id, phone_number=["+14085550190"]))
    assert len(nums) == 1 and nums[0].owner.owner_id == lobby.workspace_id, nums

    print("wxc-sdk check: ok")


if __name__ == "__main__":
    main(sys.argv[1])
