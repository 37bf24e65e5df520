#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_compliance: every requirement id of the DCI compliance suite igw follows (OpenSPP
spdci-compliance, copied in tests/fixtures/dci/compliance/openspp-spdci-compliance/) is named
by at least one test (an integration test in tests/integration/ or a unit test in tests/unit/),
and every id a test names is in the catalogue (no typo passes for coverage). A golden-style
check: it fails listing the ids no test names, so a new catalogue or a removed test shows.
`test_dci_compliance.py --list` prints, for each id, the test files that name it.
Python 3 standard library; needs no igw."""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import IGW_FIXTURES, IGW_SRC, run  # noqa: E402

CATALOGUE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance")
# an id: a profile prefix (SR social registry, SP SP-MIS client, CRVS, FR, DCI common), then
# upper-case words and a two-digit number (DCI-VAL-FMT-TS-03, SP-CORE-CL-QUERY-EXPRESSION-01)
ID = re.compile(r"(?<![A-Z0-9-])(?:SR|SP|CRVS|FR|DCI)-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d\d(?![A-Z0-9-])")


def catalogue():
    """{id: (catalogue file, description)} of every requirements-*.json."""
    ids = {}
    for path in sorted(glob.glob(os.path.join(CATALOGUE, "requirements-*.json"))):
        with open(path) as f:
            for r in json.load(f)["requirements"]:
                ids[r["id"]] = (os.path.basename(path), r.get("description", ""))
    return ids


def named():
    """{id: [test files naming it]} over the integration and unit tests (this file excluded)."""
    files = (glob.glob(os.path.join(IGW_SRC, "tests", "integration", "*.py")) +
             glob.glob(os.path.join(IGW_SRC, "tests", "unit", "**", "*.c"), recursive=True))
    out = {}
    for path in sorted(files):
        if os.path.abspath(path) == os.path.abspath(__file__):
            continue
        with open(path, errors="replace") as f:
            for i in set(ID.findall(f.read())):
                out.setdefault(i, []).append(os.path.relpath(path, IGW_SRC))
    return out


def test_catalogue_is_there():
    ids = catalogue()
    assert len(ids) >= 90, "only %d requirement ids in %s" % (len(ids), CATALOGUE)


def test_every_id_is_named_by_a_test():
    ids, by = catalogue(), named()
    missing = sorted(i for i in ids if i not in by)
    assert not missing, "no test names: " + "; ".join(
        "%s (%s: %s)" % (i, ids[i][0], ids[i][1]) for i in missing)


def test_every_named_id_is_in_the_catalogue():
    ids, by = catalogue(), named()
    unknown = sorted(i for i in by if i not in ids)
    assert not unknown, "named by tests but not in the catalogue: " + "; ".join(
        "%s (%s)" % (i, ", ".join(by[i])) for i in unknown)


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        ids, by = catalogue(), named()
        for i in sorted(ids):
            print("%-44s %s" % (i, ", ".join(by.get(i, ["-- NOT NAMED --"]))))
        sys.exit(0)
    run([test_catalogue_is_there, test_every_id_is_named_by_a_test,
         test_every_named_id_is_in_the_catalogue])
