"""The server-side scripts of `RedisStateStore`: one atomic step each.

A Lua script runs alone on the server, so a check and the writes it guards cannot
interleave with another client — the compare-and-set the state layer rests on. Every
key a script touches is passed in KEYS and shares the stream's hash tag, so the
scripts also run on Redis Cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import NoScriptError

__all__ = ["COMMIT", "DISCARD", "LuaScript"]


@dataclass(frozen=True, slots=True)
class LuaScript:
    """Script text and its SHA1, the name EVALSHA calls it by once loaded."""

    name: str
    text: str

    @property
    def sha(self) -> str:
        """Lowercase hex SHA1 of the text, as ``SCRIPT LOAD`` returns it."""
        return hashlib.sha1(self.text.encode()).hexdigest()

    def run_many(
        self, client: redis.Redis[bytes], calls: Sequence[tuple[Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        """Run the script once per ``(keys, args)`` in one pipeline; replies in order.

        A reply is an exception instance where that call failed on the server.
        redis-py's own ``register_script`` would check ``SCRIPT EXISTS`` first, an
        extra round trip per batch; here EVALSHA goes straight out and only a NOSCRIPT
        reply (the server restarted or flushed its scripts) loads the script and
        resends those calls — safe, since a NOSCRIPT call did not run.
        """

        def send(indexes: Sequence[int]) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for i in indexes:
                keys, args = calls[i]
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            return pipe.execute(raise_on_error=False)

        replies = send(range(len(calls)))
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            client.script_load(self.text)  # type: ignore[no-untyped-call]
            for i, reply in zip(missing, send(missing), strict=True):
                replies[i] = reply
        return replies


# KEYS[1] state hash {v, data}; KEYS[2] outbox stream.
# ARGV: expected version, encoded record, outbox max length (0 = unbounded),
#       signal count, then per signal: entry id, field count n, n field/value pairs.
# Reply: {0, stored version}                     conflict, nothing written
#        {1, new version, {skipped entry ids}}   committed
# A commit retried by redis-py after its reply was lost conflicts with itself: the
# caller reloads and finds its own record. Recognising it here (same bytes at v + 1)
# would also let a second writer that computed the same bytes count as a winner.
COMMIT = LuaScript(
    "commit",
    r"""
local function after(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  return ams > bms or (ams == bms and aseq > bseq)
end

local expected = tonumber(ARGV[1])
local stored = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if stored ~= expected then
  return {0, stored}
end

-- An entry id at or below the stream's last id is a bar already published (or older
-- than what consumers have seen): skip it, never append it twice or out of order.
-- The last *generated* id, not the newest entry: XADD refuses ids below it even when
-- that entry was deleted, and an error after HSET would leave a half-made commit.
local top = '0-0'
if redis.call('EXISTS', KEYS[2]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for k = 1, #info, 2 do
    if info[k] == 'last-generated-id' then top = info[k + 1] end
  end
end

redis.call('HSET', KEYS[1], 'v', tostring(expected + 1), 'data', ARGV[2])

local maxlen = tonumber(ARGV[3])
local skipped = {}
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  if after(id, top) then
    local cmd = {'XADD', KEYS[2]}
    if maxlen > 0 then
      table.insert(cmd, 'MAXLEN'); table.insert(cmd, '~'); table.insert(cmd, maxlen)
    end
    table.insert(cmd, id)
    for j = i + 2, i + 1 + 2 * n do table.insert(cmd, ARGV[j]) end
    redis.call(unpack(cmd))
    top = id
  else
    table.insert(skipped, id)
  end
  i = i + 2 + 2 * n
end
return {1, expected + 1, skipped}
""",
)

# KEYS[1] state hash. ARGV[1] the version seen with the unreadable data ('' if none).
# Deletes the record only if it is still the one that was read, so a record another
# writer has just repaired survives. A key of the wrong type is always deleted.
# Reply: 1 deleted, 0 left alone.
DISCARD = LuaScript(
    "discard",
    r"""
local kind = redis.call('TYPE', KEYS[1])
if type(kind) == 'table' then kind = kind['ok'] end
if kind == 'none' then return 0 end
if kind ~= 'hash' then return redis.call('DEL', KEYS[1]) end
if (redis.call('HGET', KEYS[1], 'v') or '') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
""",
)
