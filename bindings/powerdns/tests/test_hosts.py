# SPDX-License-Identifier: BSD-3-Clause
"""PowerDNS's own ALIAS tests, adapted to both PowerDNS paths.

Each case below expresses one upstream case (same zone data shape, same
query, same expected answer) in our own code, citing the upstream file:
  P  = PowerDNS regression-tests.auth-py/test_ALIAS.py
  PA = PowerDNS regression-tests/tests/alias-address
  PM = PowerDNS regression-tests/tests/alias-mx
The zones are the ones test_hosts.sh gives knotd
(bindings/knot/tests/zones/hosts), with ALIAS written as ALIAS; the targets
are served by a loopback nsd (test_ALIAS.py's responder answers SERVFAIL
for servfail.example.com: here that name goes to a closed port).

A case either passes as upstream expects, or it is a deliberate difference
of that path listed in bindings/powerdns/README.md: then what the path does
instead is asserted, so it can fail too.
"""

import os
import re

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import pdnsenv

HOSTS = os.path.join(pdnsenv.ROOT, "bindings", "knot", "tests", "zones",
                     "hosts")
UPSTREAM = {
    "example.com": "upstream-example.com.zone",
    "google.com": "upstream-google.com.zone",
    "example.test": os.path.join(pdnsenv.FIXTURES, "example.test.zone"),
}
SERVED = {"example.org.": "example.org.zone", "example.com.": "example.com.zone"}

GENERIC = re.compile(r"^(\S+\s+\d+\s+IN\s+)TYPE65401\s+\\#\s+\d+\s+([0-9a-f]+)")


def wire_to_text(hexdata):
    b, i, labels = bytes.fromhex(hexdata), 0, []
    while b[i]:
        labels.append(b[i + 1:i + 1 + b[i]].decode())
        i += 1 + b[i]
    return ".".join(labels) + "."


def alias_zone(src, dst):
    """Rewrite the RFC 3597 TYPE65401 records as PowerDNS's ALIAS."""
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            m = GENERIC.match(line)
            if m:
                line = "%sALIAS %s\n" % (m.group(1), wire_to_text(m.group(2)))
            out.write(line)


@pytest.fixture(scope="module")
def up():
    env = pdnsenv.Env("hosts-up")
    try:
        nsd = env.nsd({z: os.path.join(HOSTS, f) for z, f in UPSTREAM.items()})
        closed = env.closed_port()
        env.stubs = [("example.com.", "127.0.0.1@%d" % nsd),
                     ("google.com.", "127.0.0.1@%d" % nsd),
                     ("example.test.", "127.0.0.1@%d" % nsd),
                     ("servfail.example.com.", "127.0.0.1@%d" % closed),
                     (".", "127.0.0.1@%d" % closed)]
        env.zones = {}
        for z, f in SERVED.items():
            env.zones[z] = env.path(f)
            alias_zone(os.path.join(HOSTS, f), env.zones[z])
        yield env
    finally:
        env.close()


@pytest.fixture(scope="module", params=["builtin", "lua2"])
def pdns(request, up):
    """One PowerDNS path: built-in ALIAS + aname-resolverd, or lua2."""
    env = pdnsenv.Env("hosts-" + request.param)
    try:
        if request.param == "builtin":
            rport, _ = env.resolverd(up.stubs, timeout_ms=500)
            named = env.path("named.conf")
            with open(named, "w") as f:
                for z, zf in up.zones.items():
                    f.write('zone "%s" { type master; file "%s"; };\n' % (z, zf))
            lines = ["launch=bind", "bind-config=" + named,
                     "resolver=127.0.0.1:%d" % rport, "expand-alias=yes",
                     "edns-subnet-processing=yes", "any-to-tcp=no"]
        else:
            conf = env.lua2_conf(up.stubs, zones=up.zones)
            lines = ["launch=lua2", "lua2-filename=" + conf, "lua2-api=2",
                     "edns-subnet-processing=yes", "any-to-tcp=no"]
        env.port = env.pdns("pdns-" + request.param, lines,
                            zone_ready="example.org.")
        env.path_name = request.param
        # Targets are registered at start: wait until they are warm.
        for name, t in (("noerror.example.org.", "A"),
                        ("google-alias.example.com.", "AAAA")):
            pdnsenv.wait_until(
                lambda: (lambda r: r is not None and r.answer)(
                    pdnsenv.query(env.port, name, t)), 10, name)
        yield env
    finally:
        env.close()


def ask(env, name, rdtype, tcp=False, ecs=None):
    q = dns.message.make_query(name, rdtype, use_edns=ecs is not None,
                               options=[ecs] if ecs else None)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=env.port, timeout=3)
    return dns.query.udp(q, "127.0.0.1", port=env.port, timeout=3)


def rrs(r, rdtype):
    t = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text().lower() for rrset in r.answer
                  if rrset.rdtype == t for rd in rrset)


def rcode(r):
    return dns.rcode.to_text(r.rcode())


def soa_in_authority(r):
    return any(rr.rdtype == dns.rdatatype.SOA for rr in r.authority)


# Expectations: functions of the response returning None or a complaint.
def noerror_with(rdtype, *values):
    def check(r):
        if rcode(r) != "NOERROR" or rrs(r, rdtype) != sorted(values):
            return "want NOERROR %s %s, got %s %s" % (rdtype, values, rcode(r), r.answer)
    return check


def any_a_aaaa(a, aaaa):
    def check(r):
        if rcode(r) != "NOERROR" or rrs(r, "A") != [a] or rrs(r, "AAAA") != [aaaa]:
            return "want A %s + AAAA %s, got %s %s" % (a, aaaa, rcode(r), r.answer)
    return check


def status(want):
    def check(r):
        if rcode(r) != want:
            return "want %s, got %s %s" % (want, rcode(r), r.answer)
    return check


def nodata(r):
    if rcode(r) != "NOERROR" or r.answer:
        return "want NODATA, got %s %s" % (rcode(r), r.answer)


def nodata_soa(r):
    return nodata(r) or (None if soa_in_authority(r) else "no SOA in authority")


def nxdomain_soa(r):
    if rcode(r) != "NXDOMAIN" or not soa_in_authority(r):
        return "want NXDOMAIN + SOA, got %s" % rcode(r)


def ecs_scope(rdtype, value, scope):
    def check(r):
        bad = noerror_with(rdtype, value)(r)
        if bad:
            return bad
        got = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
        if not got or got[0].scopelen != scope:
            return "want ECS scope /%d, got %s" % (scope, [o.to_text() for o in got])
    return check


def no_ecs_scope(rdtype, value):
    """The answer is right; the ECS option claims no scope (absent or /0)."""
    def check(r):
        bad = noerror_with(rdtype, value)(r)
        if bad:
            return bad
        got = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
        if got and got[0].scopelen != 0:
            return "want no ECS scope, got %s" % got[0].to_text()
    return check


A1, AAAA1 = "192.0.2.1", "2001:db8::1"
ECS4 = dns.edns.ECSOption("1.2.3.0", 24)
ECS6 = dns.edns.ECSOption("2001:db8:db6:db5::", 64)

# Why a path answers differently (the README's table says the same).
WHY_NXD = "NXDOMAIN target gives NODATA (draft-ietf-dnsop-aname section 3)"
WHY_ECS = "one resolution serves every client: no ECS scope"
WHY_NXD_ANY = "NXDOMAIN target: no addresses, the ALIAS record itself is listed"


def alias_record_only(r):
    if rcode(r) != "NOERROR" or rrs(r, "A") or rrs(r, "AAAA") or \
            not any(rr.rdtype == 65401 for rr in r.answer):
        return "want the ALIAS record and no addresses, got %s %s" % (rcode(r), r.answer)


# pdns's built-in ALIAS puts no SOA into that empty answer.
NXD = {"builtin": (WHY_NXD + "; pdns adds no SOA", nodata),
       "lua2": (WHY_NXD, nodata_soa)}

# (suite, case, qname, qtype, tcp, ecs, expectation, {path: (why, instead)})
CASES = []
for tcp in (False, True):
    tag = "TCP" if tcp else ""
    CASES += [
        ("P", "testNoError%s A" % tag, "noerror.example.org.", "A", tcp, None,
         noerror_with("A", A1), {}),
        ("P", "testNoError%s AAAA" % tag, "noerror.example.org.", "AAAA", tcp, None,
         noerror_with("AAAA", AAAA1), {}),
        ("P", "testNoError%s ANY" % tag, "noerror.example.org.", "ANY", tcp, None,
         any_a_aaaa(A1, AAAA1), {}),
        ("P", "testNoError%s MX" % tag, "noerror.example.org.", "MX", tcp, None,
         nodata, {}),
        ("P", "testNxDomain%s A" % tag, "nxd.example.org.", "A", tcp, None,
         status("SERVFAIL"), NXD),
        ("P", "testNxDomain%s AAAA" % tag, "nxd.example.org.", "AAAA", tcp, None,
         status("SERVFAIL"), NXD),
        # pdns sends a UDP ANY to resolver= as ANY, which aname-resolverd
        # answers with A+AAAA (nothing, for a target that does not exist).
        ("P", "testNxDomain%s ANY" % tag, "nxd.example.org.", "ANY", tcp, None,
         status("SERVFAIL"),
         {"lua2": (WHY_NXD_ANY, alias_record_only),
          "builtin": (WHY_NXD, nodata)}),
        ("P", "testServFail%s A" % tag, "servfail.example.org.", "A", tcp, None,
         status("SERVFAIL"), {}),
        ("P", "testServFail%s AAAA" % tag, "servfail.example.org.", "AAAA", tcp, None,
         status("SERVFAIL"), {}),
        ("P", "testServFail%s ANY" % tag, "servfail.example.org.", "ANY", tcp, None,
         status("SERVFAIL"), {}),
    ]
for case, owner, scope in (("testECS", "subnet", 22), ("testECSWrong", "subnetwrong", 22),
                           ("testECSNone", "noerror", 0)):
    for rdtype, value, opt, s in (("A", A1, ECS4, scope), ("AAAA", AAAA1, ECS6, 48 if scope else 0)):
        diff = {} if s == 0 else {p: (WHY_ECS, no_ecs_scope(rdtype, value))
                                  for p in ("builtin", "lua2")}
        CASES.append(("P", "%s %s" % (case, rdtype), owner + ".example.org.", rdtype,
                      False, opt, ecs_scope(rdtype, value, s), diff))
for tcp in (False, True):
    CASES += [
        ("PA", "google-alias A%s" % (" tcp" if tcp else ""), "google-alias.example.com.",
         "A", tcp, None, noerror_with("A", "8.8.8.8"), {}),
        ("PA", "google-alias AAAA%s" % (" tcp" if tcp else ""), "google-alias.example.com.",
         "AAAA", tcp, None, noerror_with("AAAA", "2001:4860:4860::8888"), {}),
    ]
CASES += [
    ("PA", "google-alias ANY tcp", "google-alias.example.com.", "ANY", True, None,
     any_a_aaaa("8.8.8.8", "2001:4860:4860::8888"), {}),
    ("PA", "google-alias1 A (NXDOMAIN)", "google-alias1.example.com.", "A", False, None,
     nxdomain_soa, {}),
    ("PM", "google-alias MX (NODATA)", "google-alias.example.com.", "MX", False, None,
     nodata_soa, {}),
]


@pytest.mark.parametrize("case", CASES, ids=["%s %s" % (c[0], c[1]) for c in CASES])
def test_host_case(pdns, case):
    suite, name, qname, qtype, tcp, ecs, expect, diffs = case
    r = ask(pdns, qname, qtype, tcp=tcp, ecs=ecs)
    if pdns.path_name in diffs:
        why, instead = diffs[pdns.path_name]
        bad = instead(r)
        assert bad is None, "documented difference (%s) no longer holds: %s" % (why, bad)
        assert expect(r) is not None, "now passes as upstream expects: drop the difference"
    else:
        bad = expect(r)
        assert bad is None, bad
