#!/usr/bin/env python3
"""Writes samples/org.json (the sandbox org) and samples/desired*.csv. Deterministic."""
import base64, json, os

def wid(kind, n):
    u = f"5a3c0000-0000-4000-8000-{n:012d}"
    return base64.b64encode(f"ciscospark://us/{kind}/{u}".encode()).decode().rstrip("=")

ORG = wid("ORGANIZATION", 1)
locs = [
    ("HQ", "+14085550100", 101),
    ("Austin", "+15125550100", 102),
    ("London", "+442079460100", 103),
]
locations = []
for name, main, n in locs:
    locations.append({"id": wid("LOCATION", n), "name": name, "mainNumber": main,
                      "ecbn": {"selected": "LOCATION_NUMBER", "locationMemberId": None}})

first = ["Ana","Ben","Carla","Dev","Eva","Femi","Gus","Hana","Ivan","Jia","Kofi","Lena","Mo","Nia",
         "Omar","Pia","Quinn","Raj","Sara","Tom","Uma","Vic","Wen","Xavi","Yuki","Zoe","Abel","Bea","Cyd","Dina"]
last = ["Silva","Okafor","Rossi","Patel","Novak","Adeyemi","Berg","Sato","Petrov","Chen","Mensah","Vogel",
        "Haddad","Ncube","Farouk","Lund","Reyes","Kumar","Lopez","Hart","Iyer","Costa","Li","Ruiz","Mori",
        "Blake","Tesfaye","Moreau","Kerr","Aziz"]
members = []
people = []
for i in range(30):
    loc = 0 if i < 14 else (1 if i < 24 else 2)
    lid = locations[loc]["id"]
    main = locs[loc][1]
    num = None
    if i % 5 != 4:  # every fifth person has no number of their own (extension only)
        num = main[:-3] + f"{201 + i:03d}"
    m = {"id": wid("PEOPLE", i + 1), "type": "PEOPLE", "email": f"{first[i].lower()}.{last[i].lower()}@example.com",
         "firstName": first[i], "lastName": last[i], "locationId": lid, "phoneNumber": num,
         "extension": f"{2000 + i}", "ecbn": {"selected": "DIRECT_LINE" if num else "LOCATION_ECBN", "locationMemberId": None}}
    members.append(m); people.append(m)
# an inactive number
people[7]["numberState"] = "INACTIVE"
# workspaces, a virtual line, a hunt group
ws_lobby = {"id": wid("PLACE", 501), "type": "PLACE", "firstName": "Lobby", "lastName": "Phone", "displayName": "HQ Lobby",
            "locationId": locations[0]["id"], "phoneNumber": "+14085550190", "extension": "190",
            "ecbn": {"selected": "DIRECT_LINE", "locationMemberId": None}}
ws_lab = {"id": wid("PLACE", 502), "type": "PLACE", "firstName": "Lab", "lastName": "Phone", "displayName": "Austin Lab",
          "locationId": locations[1]["id"], "phoneNumber": "+15125550190", "extension": "190",
          "ecbn": {"selected": "DIRECT_LINE", "locationMemberId": None}}
ws_nonum = {"id": wid("PLACE", 503), "type": "PLACE", "firstName": "Break", "lastName": "Room", "displayName": "HQ Break Room",
            "locationId": locations[0]["id"], "phoneNumber": None, "extension": "191",
            "ecbn": {"selected": "LOCATION_ECBN", "locationMemberId": None}}
vl = {"id": wid("VIRTUAL_LINE", 601), "type": "VIRTUAL_LINE", "firstName": "Security", "lastName": "Desk", "displayName": "Security Desk",
      "locationId": locations[0]["id"], "phoneNumber": "+14085550195", "extension": "195",
      "ecbn": {"selected": "DIRECT_LINE", "locationMemberId": None}}
hg = {"id": wid("HUNT_GROUP", 701), "type": "HUNT_GROUP", "firstName": "Reception", "displayName": "Reception",
      "locationId": locations[0]["id"], "phoneNumber": "+14085550199", "extension": "199"}
members += [ws_lobby, ws_lab, ws_nonum, vl, hg]
def point(p, target):
    p["ecbn"] = {"selected": "LOCATION_MEMBER_NUMBER", "locationMemberId": target["id"]}
# existing dependents: Ana (0) is the ECBN of Eva (4, no number) and Jia (9, no number... 9%5==4)
point(people[4], people[0]); point(people[9], people[0])
# Dev (3) points at the security desk virtual line
point(people[3], vl)
# Austin: Sara (18, no number? 18%5==3 has) -> lab workspace; Yuki (24 is London)...
point(people[19], ws_lab)   # 19%5==4: no number
# Austin's location ECBN is Raj (17)
locations[1]["ecbn"] = {"selected": "LOCATION_MEMBER_NUMBER", "locationMemberId": people[17]["id"]}
# a member configured earlier, still shown, not a dependency
people[2]["ecbn"] = {"selected": "DIRECT_LINE", "locationMemberId": people[1]["id"]}
# someone currently NONE
people[29]["ecbn"] = {"selected": "NONE", "locationMemberId": None}

org = {"orgId": ORG,
       "tokens": [{"token": "admin-token", "scopes": ["spark-admin:telephony_config_read",
                   "spark-admin:telephony_config_write", "spark-admin:people_read"]},
                  {"token": "read-only-token", "scopes": ["spark-admin:telephony_config_read", "spark-admin:people_read"]}],
       "locations": locations, "members": members}
here = os.path.join(os.path.dirname(__file__), "..", "samples")
with open(os.path.join(here, "org.json"), "w") as f:
    json.dump(org, f, indent=2); f.write("\n")

P = lambda i: people[i]["id"]
E = lambda i: people[i]["email"]
rows = [
    ("person", "selected", "location_member", "note"),
    (P(0), "LOCATION_ECBN", "", "skipped: Eva and Jia use Ana as their ECBN"),
    (P(1), "LOCATION_ECBN", "", "update: direct line -> location ECBN"),
    (E(2), "direct_line", "", "in sync (by email); the member configured earlier does not count"),
    (P(3), "LOCATION_MEMBER_NUMBER", vl["id"], "in sync: the security desk virtual line"),
    (P(5), "LOCATION_MEMBER_NUMBER", ws_lobby["id"], "update: to the lobby workspace"),
    (P(6), "LOCATION_MEMBER_NUMBER", "+1 (408) 555-0190", "update: the lobby, by phone number"),
    (E(10), "LOCATION_ECBN", "", "update, by email"),
    (P(17), "LOCATION_ECBN", "", "skipped: Raj is the Austin location's ECBN"),
    (P(12), "LOCATION_MEMBER_NUMBER", E(11), "update: points at Lena, by email"),
    (P(11), "LOCATION_ECBN", "", "skipped: the line above points at Lena (in-file rule)"),
    (P(14), "LOCATION_ECBN", "", "in sync: Omar has no number of his own"),
    (P(15), "LOCATION_MEMBER_NUMBER", E(16), "update: Austin, points at Quinn by email"),
    (P(20), "DIRECT_LINE", "", "in sync"),
]
import csv
with open(os.path.join(here, "desired.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for r in rows:
        w.writerow(r)
# the skip-by-dependents example uses a distinct person: Dev's virtual line is not a person,
# so add one person with live dependents who is not otherwise in the file
bad = [
    "person;selected;location_member",
    f"{P(0)};DIRECT_LINE;",
    f"{P(1)};SOMETIMES;",
    f"{P(2)};LOCATION_MEMBER_NUMBER;",
    f"{P(3)};DIRECT_LINE;{P(4)}",
    f"{ws_lobby['id']};DIRECT_LINE;",
    "not-a-person;DIRECT_LINE;",
    f"{P(5)};LOCATION_MEMBER_NUMBER;{P(5)}",
    f"{P(6)};LOCATION_MEMBER_NUMBER;call me maybe",
    f"{P(0)};LOCATION_ECBN;",
    f"{P(8)};NONE;",
    f"{P(9)};DIRECT_LINE",
    "",
    f"'{P(13)};=HYPERLINK(\"http://x\");",
]
with open(os.path.join(here, "desired-bad.csv"), "w") as f:
    f.write("\n".join(bad) + "\n")
