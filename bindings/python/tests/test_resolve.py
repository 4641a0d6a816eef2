# SPDX-License-Identifier: BSD-3-Clause
"""Synchronous API against a real nsd on loopback."""

import time

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

import aname

EX = "example.test."
WWW_A = {"192.0.2.1", "192.0.2.2"}
WWW_AAAA = {"2001:db8::1"}


def test_a(resolver):
    res = resolver.resolve("www." + EX, "A")
    assert res.status == 0 and res.ok
    assert res.rcode == 0
    assert set(res.addresses) == WWW_A
    assert res.records and all(r.type == "A" for r in res.records)
    assert 250 < res.ttl <= 300
    assert res.chain == 0
    assert res.target == "www." + EX
    assert not res.stale and not res.secure
    assert res.rrtype == "A" and res.types == ("A",)


def test_aaaa(resolver):
    res = resolver.resolve("WWW.Example.TEST", aname.AAAA)
    assert res.target == "www." + EX
    assert set(res.addresses) == WWW_AAAA
    assert res.records == [aname.Record("AAAA", "2001:db8::1")]


def test_both(resolver):
    res = resolver.resolve("www." + EX, "BOTH")
    assert res.types == ("A", "AAAA")
    assert set(res.addresses_of("A")) == WWW_A
    assert set(res.addresses_of("AAAA")) == WWW_AAAA
    types = [r.type for r in res.records]
    assert types == ["A", "A", "AAAA"], "A first, then AAAA"
    assert res.status_of("A") == 0 and res.status_of("AAAA") == 0


def test_chain_ttl_is_the_minimum(resolver):
    res = resolver.resolve("c1." + EX, "A")
    assert set(res.addresses) == WWW_A
    assert 0 < res.ttl <= 50, "min(1000, 50, 2000, 300)"
    assert res.chain == 3


def test_cross_zone_chain(resolver):
    res = resolver.resolve("ext." + EX, "A")
    assert res.addresses == ["198.51.100.7"]
    assert 0 < res.ttl <= 30
    assert res.chain == 1


def test_nxdomain_is_a_result(resolver):
    res = resolver.resolve("nothere." + EX, "A")
    assert res.status == 0
    assert res.rcode == 3 and res.nxdomain
    assert res.addresses == [] and res.records == []


def test_dangling_chain_is_nxdomain(resolver):
    res = resolver.resolve("dangling." + EX, "A")
    assert res.rcode == 3 and res.addresses == []


def test_nodata(resolver):
    res = resolver.resolve("nodata." + EX, "A")
    assert res.status == 0 and res.rcode == 0
    assert res.nodata and res.addresses == []
    res = resolver.resolve("v6only." + EX, "BOTH")
    assert res.addresses_of("A") == []
    assert res.addresses_of("AAAA") == ["2001:db8::6"]


def test_big_answer_over_tcp(resolver):
    res = resolver.resolve("big." + EX, "A")
    assert len(res.addresses) == 100
    assert "198.51.100.50" in res.addresses


def test_chain_too_long_raises_loop(resolver):
    with pytest.raises(aname.Loop) as info:
        resolver.resolve("l1." + EX, "A")
    assert info.value.status == -14


def test_cname_loop_fails_fast(resolver):
    t0 = time.monotonic()
    with pytest.raises(aname.Error):
        resolver.resolve("loop1." + EX, "A")
    assert time.monotonic() - t0 < 2.2


@pytest.mark.parametrize("bad", [
    "a..b." + EX, "x" * 64 + "." + EX, ".".join(["abcdefgh"] * 40) + ".",
    "\\256." + EX, "ünï." + EX, "nul\0." + EX])
def test_bad_name_raises_bad_name(resolver, bad):
    before = resolver.stats()["requests"]
    with pytest.raises(aname.BadName) as info:
        resolver.resolve(bad, "A")
    e = info.value
    assert e.status == -9 and e.name == "ANAME_EBADNAME"
    assert e.message == aname.strerror(-9)
    assert isinstance(e, ValueError)
    assert resolver.stats()["requests"] == before, "changed nothing"


@pytest.mark.parametrize("bad", ["MX", "any", 15, None, 1.0, True])
def test_bad_type_raises(resolver, bad):
    with pytest.raises(aname.InvalidArgument):
        resolver.resolve("www." + EX, bad)


def test_bad_timeout_raises(resolver):
    with pytest.raises(aname.Range):
        resolver.resolve("www." + EX, "A", timeout=-1)
    with pytest.raises(aname.Range):
        resolver.resolve("www." + EX, "A", timeout=0.0001)
    with pytest.raises(aname.Range):
        resolver.resolve("www." + EX, "A", timeout=601)


def _parse_wire(wire, count):
    # Prepend a DNS header with ANCOUNT = count so dnspython parses the
    # records as an answer section.
    header = b"\x00\x00\x84\x00\x00\x00" + count.to_bytes(2, "big") + \
        b"\x00\x00\x00\x00"
    return dns.message.from_wire(header + wire).answer


def _rrsets_from_text(text):
    out = {}
    for line in text.splitlines():
        owner, ttl, cls, rtype, rdata = line.split("\t")
        rrset = dns.rrset.from_text(owner, int(ttl), cls, rtype, rdata)
        key = (rrset.name, rrset.rdtype)
        if key in out:
            out[key].union_update(rrset)
            assert out[key].ttl == rrset.ttl
        else:
            out[key] = rrset
    return out


def test_synthesize_parses(resolver):
    res = resolver.resolve("www." + EX, "BOTH")
    syn = res.synthesize("alias.test.", 60)
    assert syn.count == 3 and syn.ttl == 60
    assert len(syn.lines) == 3
    for line in syn.lines:
        assert line.split("\t")[:3] == ["alias.test.", "60", "IN"]
    text_sets = _rrsets_from_text(syn.text)
    wire_sets = _parse_wire(syn.wire, syn.count)
    owner = dns.name.from_text("alias.test.")
    a = text_sets[(owner, dns.rdatatype.A)]
    aaaa = text_sets[(owner, dns.rdatatype.AAAA)]
    assert {r.address for r in a} == WWW_A
    assert {r.address for r in aaaa} == WWW_AAAA
    assert len(wire_sets) == 2
    for rrset in wire_sets:
        assert rrset.name == owner and rrset.ttl == 60
        assert rrset.rdclass == dns.rdataclass.IN
        assert rrset == text_sets[(owner, rrset.rdtype)]
    # The wire form is exactly the records: 3 x (owner 12 + 10 + rdata).
    assert len(syn.wire) == 2 * (12 + 10 + 4) + (12 + 10 + 16)


def test_synthesize_ttl_follows_chain(resolver):
    res = resolver.resolve("c1." + EX, "A")
    syn = res.synthesize("a2.alias.test.", 300)
    assert 0 < syn.ttl <= 50
    sets = _parse_wire(syn.wire, syn.count)
    assert len(sets) == 1 and sets[0].ttl == syn.ttl
    assert {r.address for r in sets[0]} == WWW_A
    assert res.synthesize("a2.alias.test.", 10).ttl == 10


def test_synthesize_nothing_for_nxdomain(resolver):
    res = resolver.resolve("nothere." + EX, "A")
    syn = res.synthesize("alias.test.", 60)
    assert syn.count == 0 and syn.text == "" and syn.wire == b""


def test_synthesize_rejects_bad_owner(resolver):
    res = resolver.resolve("www." + EX, "A")
    with pytest.raises(aname.BadName):
        res.synthesize("a..b.", 60)
    with pytest.raises(aname.Range):
        res.synthesize("alias.test.", -1)


def test_result_outlives_resolver(make_resolver):
    r = make_resolver()
    res = r.resolve("www." + EX, "A")
    r.close()
    assert set(res.addresses) == WWW_A
    assert res.synthesize("alias.test.", 30).count == 2
    res.close()
    with pytest.raises(aname.Busy):
        res.ttl


def test_lookup_hits_after_resolve(resolver):
    assert resolver.lookup("www." + EX, "AAAA", fetch=False) is None
    resolver.resolve("www." + EX, "AAAA")
    res = resolver.lookup("www." + EX, "AAAA", fetch=False)
    assert res is not None and res.addresses == ["2001:db8::1"]
    assert not res.stale


def test_lookup_fetch_fills_cache(resolver):
    name = "c2." + EX
    assert resolver.lookup(name, "A", fetch=True) is None
    deadline = time.monotonic() + 3
    res = None
    while res is None and time.monotonic() < deadline:
        resolver.poll(0.1)
        res = resolver.lookup(name, "A", fetch=False)
    assert res is not None, "background fetch never landed in the cache"
    assert set(res.addresses) == WWW_A


def test_lookup_rejects_both(resolver):
    with pytest.raises(aname.InvalidArgument):
        resolver.lookup("www." + EX, "BOTH")
    with pytest.raises(aname.BadName):
        resolver.lookup("a..b." + EX, "A")


def test_register_unregister(resolver):
    resolver.register("short." + EX, "A")
    resolver.register("short." + EX, "A")
    assert resolver.stats()["registered"] >= 1
    resolver.unregister("short." + EX, "A")
    resolver.unregister("short." + EX, "A")
    with pytest.raises(aname.NoEntry):
        resolver.unregister("short." + EX, "A")
    with pytest.raises(aname.BadName):
        resolver.register("a..b.", "A")


def test_stats_health_prometheus(resolver):
    for name in ("www", "c1", "nothere", "nodata"):
        resolver.resolve(name + "." + EX, "A")
    resolver.resolve("www." + EX, "A")
    st = resolver.stats()
    assert len(st) == 26
    assert st["requests"] >= 5
    assert st["answers_noerror"] >= 2
    assert st["answers_nxdomain"] >= 1
    assert st["answers_nodata"] >= 1
    assert st["hits_fresh"] >= 1
    assert st["inflight"] == 0
    h = resolver.health()
    level, reason, text = h
    assert level in ("ok", "degraded", "failing")
    assert reason and text
    assert h.level_code in (0, 1, 2)
    lat = resolver.latency()
    assert lat[-1][0] == float("inf")
    counts = [c for _, c in lat]
    assert counts == sorted(counts) and counts[-1] >= 1
    text = resolver.prometheus()
    assert "aname_requests" in text
    samples = [line for line in text.splitlines()
               if line and not line.startswith("#")]
    assert samples
    for line in samples:
        name, value = line.rsplit(" ", 1)
        assert name.startswith("aname_")
        float(value)


def test_thread_mode_resolve(make_resolver):
    r = make_resolver(thread=True)
    res = r.resolve("c1." + EX, "BOTH")
    assert set(res.addresses) == WWW_A | WWW_AAAA
    assert 0 < res.ttl <= 50


def test_stale_answer_when_upstream_is_gone(closed_port):
    """Serve-stale end to end: a private nsd answers, is killed, the entry
    expires, and the next resolve returns the old data flagged stale."""
    from conftest import Nsd, stubs_for
    server = Nsd().start()
    try:
        r = aname.Resolver(stubs=stubs_for(server.port, closed_port),
                           timeout=0.5, max_ttl=1, stale_ttl=7,
                           stale_client_timeout=0)
        with r:
            fresh = r.resolve("www." + EX, "A")
            assert not fresh.stale and fresh.ttl <= 1
            server.stop()
            deadline = time.monotonic() + 3
            while r.lookup("www." + EX, "A", fetch=False, stale=False):
                assert time.monotonic() < deadline, "entry never expired"
                time.sleep(0.05)
            res = r.resolve("www." + EX, "A")
            assert res.stale
            assert set(res.addresses) == WWW_A
            assert res.ttl == 7
            assert res.synthesize("alias.test.", 300).ttl == 7
            cached = r.lookup("www." + EX, "A", fetch=False, stale=True)
            assert cached is not None and cached.stale
    finally:
        server.cleanup()


@pytest.mark.parametrize("thread_mode", [False, True])
def test_blocking_resolve_from_many_threads(make_resolver, thread_mode):
    """Event-loop mode: every blocking caller drives the context, so one
    thread often runs another's callback; the wake-up pipe must hand it
    over at once (each resolve is bounded well below its deadline)."""
    import threading
    r = make_resolver(thread=thread_mode, timeout=2.0)
    names = ["www", "c1", "ext", "nothere", "nodata"] + \
        ["mt%d" % i for i in range(20)]
    errors = []
    slow = []

    def worker(k):
        for i in range(40):
            n = names[(i * 7 + k) % len(names)]
            t0 = time.monotonic()
            try:
                res = r.resolve(n + "." + EX, "A")
                if n in ("www", "c1") and set(res.addresses) != WWW_A:
                    errors.append((n, res.addresses))
            except Exception as e:  # collected, asserted below
                errors.append((n, e))
            if time.monotonic() - t0 > 1.0:
                slow.append(n)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert slow == []


def test_forwarder_mode(nsd):
    """forwarders= instead of stubs (no guard needed: nothing recurses).
    .test is a built-in local zone of libunbound, answered locally unless
    made transparent: local_zones= does that."""
    with aname.Resolver(forwarders=["127.0.0.1@%d" % nsd.port], timeout=2,
                        local_zones={"test.": "transparent"}) as r:
        res = r.resolve("c1." + EX, "BOTH")
        assert set(res.addresses) == WWW_A | {"2001:db8::1"}
        assert 0 < res.ttl <= 50
        assert r.resolve("nothere." + EX, "A").nxdomain


def test_local_data_is_answered_locally():
    with aname.Resolver(forwarders=["127.0.0.1@9"], timeout=1,
                        local_zones={"pinned.test.": "static"},
                        local_data=["a.pinned.test. 60 IN A 192.0.2.7",
                                    "a.pinned.test. 60 IN AAAA 2001:db8::7"]
                        ) as r:
        res = r.resolve("a.pinned.test.", "BOTH")
        assert res.records == [aname.Record("A", "192.0.2.7"),
                               aname.Record("AAAA", "2001:db8::7")]
        assert 0 < res.ttl <= 60
        assert r.resolve("b.pinned.test.", "A").nxdomain
