# SPDX-License-Identifier: BSD-3-Clause
"""A user of the public API, checked by `mypy --strict` in test_typing.py
(never run): every call below must be typed, or --strict rejects it."""

import asyncio
from typing import Dict, List, Optional, Tuple

import aname


def sync_use(port: int) -> List[str]:
    with aname.Resolver(forwarders=["127.0.0.1@%d" % port], timeout=1.5,
                        stubs={"example.test.": ["127.0.0.1@5353"]},
                        log=lambda level, msg: None) as r:
        res: aname.Result = r.resolve("www.example.test.", "A")
        syn: aname.Synthesis = res.synthesize("alias.test.", 300)
        wire: bytes = syn.wire
        lines: List[str] = syn.lines
        ttl: int = res.ttl + syn.ttl + len(wire) + len(lines)
        cached: Optional[aname.Result] = r.lookup("www.example.test.")
        health: aname.Health = r.health()
        stats: Dict[str, int] = r.stats()
        hist: List[Tuple[float, int]] = r.latency()
        text: str = r.prometheus() + health.reason + str(ttl + stats["requests"])
        records: List[aname.Record] = res.records
        del cached, hist, text, records
        return res.addresses + res.addresses_of(aname.AAAA)


async def async_use(port: int) -> bool:
    async with aname.Resolver(forwarders=["127.0.0.1@%d" % port]) as r:
        res = await r.resolve_async("www.example.test.", "BOTH", timeout=1.0)
        stale: bool = res.stale
    await r.aclose()
    return stale and r.closed


def misc() -> str:
    wire: bytes = aname.name_to_wire("alias.test.")
    err: aname.Error = aname.error_for(-6)
    return aname.version() + aname.strerror(-6) + aname.status_name(-6) + \
        str(aname.version_hex() + len(wire)) + err.name


if __name__ == "__main__":
    asyncio.run(async_use(53))
