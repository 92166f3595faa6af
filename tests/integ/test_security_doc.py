"""doc/security.md against the tests: the table of bad inputs and faults
names, for each case, the test functions that try it (FILE::FUNCTION); each
of them must exist in that file, and be one the file really runs, so that
the document cannot drift away from the tests.  The abuse limits that the
document explains must be keys of ferryd.conf(5), and every fault test of
test_faults.py must have its row."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))      # tests/integ
TESTS = os.path.dirname(HERE)                            # tests
TOP = os.path.dirname(TESTS)
DOC = os.path.join(TOP, "doc", "security.md")
MAN = os.path.join(TOP, "doc", "ferryd.conf.5")
COLUMNS = ["Case", "Bad input or fault", "What ferry does", "Tried by"]
REF = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|c))::([A-Za-z_][A-Za-z0-9_]*)`")
# The keys that protect the operator; each must be explained in the
# document and documented in ferryd.conf(5).
LIMIT_KEYS = [
    "denied-peer", "allowed-peer", "allow-loopback-peers", "allow-anonymous-stun",
    "unauth-rate", "user-quota", "total-quota", "max-allocations-per-address",
    "max-allocation-lifetime", "max-bps", "strict-expiry", "relay-ports",
    "max-tcp-connections", "max-tcp-connections-per-address", "tcp-idle-timeout",
    "signaling-max-message", "signaling-idle-timeout", "signaling-rate",
    "max-rooms", "max-signaling-peers", "room-max-peers", "signaling-queue",
    "signaling-queue-memory", "allowed-origin", "metrics-allow", "api-key",
    "signaling-secret", "user-name", "group-name",
]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def cells(line):
    """The cells of one Markdown table row."""
    line = line.strip()
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in line[1:-1].split("|")]


def table():
    """The rows of the table whose header is COLUMNS: a list of dicts, each
    with its line number."""
    lines = read(DOC).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and cells(line) == COLUMNS:
            break
    else:
        raise AssertionError(f"no table with the columns {COLUMNS} in {DOC}")
    assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip()), lines[i + 1]
    rows = []
    for n in range(i + 2, len(lines)):
        if not lines[n].startswith("|"):
            break
        c = cells(lines[n])
        assert len(c) == len(COLUMNS), f"security.md:{n + 1}: {len(c)} cells: {lines[n]}"
        row = dict(zip(COLUMNS, c))
        row["line"] = n + 1
        rows.append(row)
    return rows


def resolve(name):
    """tests/integ/NAME for a bare file name, tests/NAME for unit/... and
    fuzz/..."""
    return os.path.join(HERE, name) if "/" not in name else os.path.join(TESTS, name)


def runs_python(text, fn):
    """fn is defined in text, and is a registered @test when the file
    registers tests that way (else a plain function, as in the TAP script
    test_ferryctl.py, which must then call it)."""
    m = re.search(rf"^def {re.escape(fn)}\(", text, re.M)
    if not m:
        return False, f"no `def {fn}(`"
    if re.search(r"^@test\b", text, re.M):
        before = text[:m.start()].rstrip().splitlines()
        if not before or not before[-1].startswith("@test"):
            return False, f"`def {fn}(` is not decorated with @test"
    elif len(re.findall(rf"\b{re.escape(fn)}\(", text)) < 2:
        return False, f"{fn} is defined but never called"
    return True, ""


def runs_c(text, fn):
    """fn is a function defined in text and, unless it is the fuzzer's
    entry point, called there too (from main)."""
    if not re.search(rf"^(?:static\s+)?(?:void|int)\s+{re.escape(fn)}\s*\(", text, re.M):
        return False, f"no definition of {fn}()"
    if fn != "LLVMFuzzerTestOneInput" and \
            len(re.findall(rf"\b{re.escape(fn)}\s*\(", text)) < 2:
        return False, f"{fn}() is defined but never called"
    return True, ""


@test
def table_is_well_formed():
    """doc/security.md has the table: unique case names, every cell filled, at least 50 rows"""
    rows = table()
    assert len(rows) >= 50, len(rows)
    seen = set()
    for r in rows:
        where = f"security.md:{r['line']}"
        for col in COLUMNS:
            assert r[col], f"{where}: empty {col!r}"
        assert re.fullmatch(r"[a-z0-9-]+", r["Case"]), f"{where}: case name {r['Case']!r}"
        assert r["Case"] not in seen, f"{where}: case {r['Case']} twice"
        seen.add(r["Case"])
        refs = REF.findall(r["Tried by"])
        assert refs, f"{where}: no FILE::FUNCTION in {r['Tried by']!r}"
        # nothing but references in the column
        rest = REF.sub("", r["Tried by"]).replace(",", "").strip()
        assert not rest, f"{where}: unexpected text in Tried by: {rest!r}"


@test
def every_named_test_exists():
    """every FILE::FUNCTION of the table exists in that file and is run by it"""
    problems, count = [], 0
    cache = {}
    for r in table():
        for name, fn in REF.findall(r["Tried by"]):
            count += 1
            path = resolve(name)
            if path not in cache:
                cache[path] = read(path) if os.path.isfile(path) else None
            text = cache[path]
            if text is None:
                problems.append(f"security.md:{r['line']}: {name}: no such file "
                                f"({os.path.relpath(path, TOP)})")
                continue
            good, why = (runs_python if name.endswith(".py") else runs_c)(text, fn)
            if not good:
                problems.append(f"security.md:{r['line']}: {name}::{fn}: {why}")
    assert count >= 50, count
    assert not problems, "\n".join(problems)


@test
def fault_tests_all_listed():
    """every test of test_faults.py has its row in the table"""
    named = {fn for r in table() for name, fn in REF.findall(r["Tried by"])
             if name == "test_faults.py"}
    text = read(os.path.join(HERE, "test_faults.py"))
    defined = set(re.findall(r"^@test[^\n]*\ndef (\w+)\(", text, re.M))
    assert defined, "no @test in test_faults.py"
    missing = sorted(defined - named)
    assert not missing, f"fault tests without a row in security.md: {missing}"


@test
def limits_explained_and_documented():
    """every abuse limit is explained in security.md and is a key of ferryd.conf(5)"""
    doc, man = read(DOC), read(MAN)
    man_keys = set(re.findall(r'^\.BI "([a-z-]+) = ', man.replace("\\-", "-"), re.M))
    assert len(man_keys) > 40, sorted(man_keys)
    not_in_doc = [k for k in LIMIT_KEYS if f"`{k}" not in doc]
    not_in_man = [k for k in LIMIT_KEYS if k not in man_keys]
    assert not not_in_doc, f"limits not explained in security.md: {not_in_doc}"
    assert not not_in_man, f"keys of security.md not in ferryd.conf(5): {not_in_man}"
    # and every key the document writes as `key = value` is a real key
    written = set(re.findall(r"`([a-z][a-z-]+) = [^`]+`", doc))
    unknown = sorted(written - man_keys)
    assert not unknown, f"security.md names keys ferryd.conf(5) does not have: {unknown}"


@test
def threat_model_sections():
    """the threat model: who can reach ferry, what an attacker can send, what ferry must never do, the defaults, the table"""
    doc = read(DOC)
    for heading in ("Who can reach ferry", "What an attacker can send",
                    "What ferry must never do", "Defaults that protect the operator",
                    "Bad inputs and faults tried"):
        assert re.search(rf"^##+ .*{re.escape(heading)}", doc, re.M), heading
    for word in ("Spoofed UDP", "slowloris", "Oversized WebSocket frames",
                 "Credential guessing", "Amplify", "Leak secrets", "Crash",
                 "unbounded memory", "Constant-time", "0600", "HS256",
                 "Privilege drop", "systemd hardening", "Stateless nonces",
                 "DTLS cookies", "IPv4-mapped", "NAT64"):
        assert word.lower() in doc.lower(), word


run()
