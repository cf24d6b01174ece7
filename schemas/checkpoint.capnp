# twinline projection checkpoints (docs/PROJECTIONS.md §5, docs/FORMAT.md).
#
# A checkpoint is derived data: the compacted projection state built from
# every effective fact with earliest day <= `day`, as the log knew it at
# `builtSeq`. It lives in the `checkpoints` table under biased(day), outside
# the hash chain, and may be dropped or rebuilt at any time.
#
# The value stored is a `Checkpoint` message (standard unpacked framing).
# Its `state` is itself a complete `CheckpointState` message in the same
# framing, so that the exact bytes the hash covers are the bytes stored:
#
#   sha256 = SHA-256("twinline-checkpoint-v1" ‖ biased(day) ‖ u64be(builtSeq) ‖ state)
#
# A reader that finds a bad hash, a day that disagrees with its key or
# bytes that do not decode skips the checkpoint (it never fails a replay).
#
# Evolution rule, as for the event schema: fields only ever get added with
# the next free ordinal. A change in what the fields *mean* (or which ones a
# writer fills) bumps `checkpointStateVersion`: a reader skips a state whose
# `version` is not the one it knows, exactly like one whose hash fails (a
# checkpoint is derived data; `twinline checkpoint` rebuilds it).
#
# Versions:
#   0 (no `version` field): settled counter facts and reports kept as lists
#     of seqs (`CheckpointCounter.settled`, `CheckpointReport.settled`,
#     `CheckpointTrade.settled`).
#   1: settled facts kept as numbers (`settledCount`, `entitySettled`); the
#     seq lists are no longer written.

@0x9b6372cf7f473521;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("twinline::schema");

const checkpointStateVersion :UInt32 = 1;

struct Checkpoint {
  day @0 :Int64;        # C, days since 1970-01-01
  builtSeq @1 :UInt64;  # the log's last seq when it was built (its K)
  state @2 :Data;       # a framed CheckpointState message
  sha256 @3 :Data;      # 32 bytes, see above
}

# The compacted state. Every entity is an index into `entities`; subkinds,
# counters, flows and qualifiers are the ordinals of the event schema's
# enums (PartnershipKind, RouteMode, TradeFlow, Qualifier) or of the counter
# list below. Days are days since 1970-01-01 (minInt64 = open start).
struct CheckpointState {
  entities @0 :List(Text);            # interned slugs
  edges @1 :List(CheckpointEdge);
  counters @2 :List(CheckpointCounter);
  reports @3 :List(CheckpointReport);
  trade @4 :List(CheckpointTrade);
  version @5 :UInt32;                 # checkpointStateVersion when written; 0 before there was one
  # Per entity index: how many distinct counter and report events of the
  # entity are settled (an office whose owner is its host feeds two counters
  # but is one event). May be shorter than `entities` (missing = 0).
  entitySettled @6 :List(UInt64);
}

# A fact that is not settled yet (latest day > C), or kept individually.
struct DatedSeq {
  seq @0 :UInt64;
  earliest @1 :Int64;
  latest @2 :Int64;
}

struct CheckpointEdgeEvent {
  at @0 :DatedSeq;
  establish @1 :Bool;   # establish/open, else end/close
}

# A partnership (a < b, subkind PartnershipKind) or a route (from a to b,
# subkind RouteMode). The settled events that end before every remaining one
# are collapsed into a prefix status, one per date rule, that acts as the
# edge's state before its remaining events.
struct CheckpointEdge {
  route @0 :Bool;
  a @1 :UInt32;
  b @2 :UInt32;
  subkind @3 :UInt16;
  prefixRange @4 :UInt8;        # Tri: 0 no, 1 maybe, 2 yes
  prefixEarliest @5 :Bool;
  prefixLatest @6 :Bool;
  prefixSeqs @7 :List(UInt64);  # the collapsed events, ascending (listed in rows as "yes")
  events @8 :List(CheckpointEdgeEvent);
}

# Counter ordinals: 0 forums, 1 agreements, 2 offices, 3 offices hosted,
# 4 organisations, 5 awards, 6 initiatives.
struct CheckpointCounter {
  entity @0 :UInt32;
  counter @1 :UInt8;
  settled @2 :List(UInt64);     # version 0 only: the settled facts' seqs. No longer written.
  open @3 :List(DatedSeq);
  settledCount @4 :UInt64;      # the number of settled facts
}

struct CountFigure {
  at @0 :DatedSeq;
  date @1 :Text;        # EDTF as stored on the event
  value @2 :Float64;
  qualifier @3 :UInt16;
}

# count_reported per (entity, metric, scope): the greatest settled report by
# (earliest, latest, seq), the number of settled reports, and the reports
# not settled yet.
struct CheckpointReport {
  entity @0 :UInt32;
  metric @1 :Text;
  hasScope @2 :Bool;
  scope @3 :UInt32;
  hasBest @4 :Bool;
  best @5 :CountFigure;
  settled @6 :List(UInt64);     # version 0 only: the settled reports' seqs. No longer written.
  open @7 :List(CountFigure);
  settledCount @8 :UInt64;
}

struct TradeFigure {
  at @0 :DatedSeq;
  date @1 :Text;
  amount @2 :Float64;
  currency @3 :Text;
}

# trade_volume_reported per (reporter, partner, period, flow), likewise.
struct CheckpointTrade {
  reporter @0 :UInt32;
  partner @1 :UInt32;
  period @2 :Text;
  flow @3 :UInt16;
  hasBest @4 :Bool;
  best @5 :TradeFigure;
  settled @6 :List(UInt64);     # version 0 only. No longer written.
  open @7 :List(TradeFigure);
  settledCount @8 :UInt64;
}
