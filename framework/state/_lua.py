"""The server-side scripts of `RedisStateStore`: one atomic step each.

A Lua script runs alone on the server, so a check and the writes it guards cannot
interleave with another client — the compare-and-set the state layer rests on. Every
key a script touches is passed in KEYS, and the keys of one stream share a hash tag.
A commit call carries several streams (one call instead of one per stream is most of
a live cycle's Redis cost); on Redis Cluster, whose scripts must stay within one slot,
a store would send one stream per call (``batch_size=1``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import NoScriptError

__all__ = ["COMMIT", "DISCARD", "READ", "LuaScript", "reply_text"]


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


def reply_text(value: object) -> str:
    """A reply's bytes (a version, an entry id, an error) as text."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# Commits of several streams in one call. For commit i (from 1):
#   KEYS[2i-1] its state hash {v, data}, KEYS[2i] its outbox stream.
# ARGV: outbox max length (0 = unbounded), then per commit: expected version, write id,
#       encoded record, signal count, then per signal: entry id, field count n, n
#       field/value pairs.
# Reply, one entry per commit:
#   {0, stored version}                     conflict, nothing written
#   {1, new version, {skipped entry ids}}   committed
#   {2, error message}                      a key of the wrong type, nothing written
# (The outbox is only looked at when there is a signal to append.)
# Every commit stands alone: a conflict or a wrong-typed key skips that stream only, and
# each stream's check comes before any of its writes, so none is ever half made.
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

local function failed(reply)
  return type(reply) == 'table' and reply.err ~= nil
end

local maxlen = tonumber(ARGV[1])
local replies = {}
local a = 2
for c = 1, #KEYS / 2 do
  local state, outbox = KEYS[2 * c - 1], KEYS[2 * c]
  local expected, write, record = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  local signals = tonumber(ARGV[a + 3])
  local entries = a + 4
  a = entries
  for _ = 1, signals do a = a + 2 + 2 * tonumber(ARGV[a + 1]) end

  local stored = redis.pcall('HGET', state, 'v')
  -- An entry id at or below the stream's last id is a bar already published (or older
  -- than what consumers have seen): skip it, never append it twice or out of order.
  -- The last *generated* id, not the newest entry: XADD refuses ids below it even when
  -- that entry was deleted, and an error after HSET would leave a half-made commit.
  local top = '0-0'
  local info = nil
  if signals > 0 and not failed(stored) and redis.call('EXISTS', outbox) == 1 then
    info = redis.pcall('XINFO', 'STREAM', outbox)
  end
  if failed(stored) or failed(info) then
    table.insert(replies, {2, (failed(stored) and stored or info).err})
  elseif tonumber(stored or '0') ~= expected then
    table.insert(replies, {0, tonumber(stored or '0')})
  else
    if info then
      for k = 1, #info, 2 do
        if info[k] == 'last-generated-id' then top = info[k + 1] end
      end
    end
    redis.call('HSET', state, 'v', tostring(expected + 1), 'data', record, 'w', write)
    local skipped = {}
    local i = entries
    for _ = 1, signals do
      local id, n = ARGV[i], tonumber(ARGV[i + 1])
      if after(id, top) then
        local cmd = {'XADD', outbox}
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
    table.insert(replies, {1, expected + 1, skipped})
  end
end
return replies
""",
)

# Reads of several streams' state hashes in one call: KEYS are the hashes; ARGV[1] is
# 'v' to read only the versions and write ids, 'all' for the records too.
# Reply, one entry per key: {1, version, write id} ('v'), {1, version, write id, record}
# ('all'), a missing field as false; or {0, error message} for a key of the wrong type.
READ = LuaScript(
    "read",
    r"""
local replies = {}
local fields = ARGV[1] == 'all' and {'v', 'w', 'data'} or {'v', 'w'}
for i = 1, #KEYS do
  local reply = redis.pcall('HMGET', KEYS[i], unpack(fields))
  if reply.err then
    replies[i] = {0, reply.err}
  else
    replies[i] = {1, unpack(reply)}
  end
end
return replies
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
