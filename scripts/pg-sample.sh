#!/usr/bin/env bash
# Samples a PostgreSQL database and the processes working on it every N seconds, one
# tab-separated line per sample, until killed. scripts/bench-load.sh --postgres runs it
# beside the load run and keeps its output as bench/results/load-<time>-postgres.pg.tsv.
#
#   scripts/pg-sample.sh DATABASE_URL SETTLE_PID SECONDS >out.tsv
#
# Columns: seconds since start; CPU seconds used so far by all `postgres` processes and by
# settle; rows live and dead in the database's tables (dead rows are what VACUUM reclaims:
# with autovacuum off they only grow); the three tables with most dead rows; rows read
# by sequential scans and fetched by index scans so far; checkpoints so far; autovacuum
# and autoanalyze runs so far; WAL written so far (MiB).
set -euo pipefail
DB_URL="$1" SETTLE_PID="$2" EVERY="$3"
TICKS=$(getconf CLK_TCK)

# cpu_seconds PID…: user + system CPU seconds of the processes, in two processes whatever
# their number (the sampler must not take the server's CPU). After "pid (comm) " a stat line
# starts at its third field, so utime and stime are the 12th and 13th that remain.
cpu_seconds() {
  local files=()
  for pid in "$@"; do files+=("/proc/$pid/stat"); done
  [ ${#files[@]} -gt 0 ] || { echo 0.0; return; }
  cat "${files[@]}" 2>/dev/null |
    awk -v k="$TICKS" '{ sub(/^.*\) /, ""); split($0, f, " "); t += f[12] + f[13] } END { printf "%.1f", t / k }'
}

printf 'at_s\tpg_cpu_s\tsettle_cpu_s\tlive_rows\tdead_rows\tmost_dead\tseq_read\tidx_fetch\tcheckpoints\tautovacuums\tautoanalyzes\twal_mib\n'
start=$(date +%s)
while :; do
  now=$(date +%s)
  # shellcheck disable=SC2046
  pg_cpu=$(cpu_seconds $(pgrep -x postgres || true))
  settle_cpu=$(cpu_seconds "$SETTLE_PID")
  stats=$(psql -XAtq -F $'\t' "$DB_URL" -c "
    SELECT sum(n_live_tup), sum(n_dead_tup),
           (SELECT string_agg(relname || ':' || n_dead_tup, ' ' ORDER BY n_dead_tup DESC)
              FROM (SELECT relname, n_dead_tup FROM pg_stat_user_tables
                     ORDER BY n_dead_tup DESC LIMIT 3) t),
           sum(coalesce(seq_tup_read, 0)), sum(coalesce(idx_tup_fetch, 0)),
           (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
           sum(autovacuum_count), sum(autoanalyze_count),
           (SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') / 1048576.0))
      FROM pg_stat_user_tables" 2>/dev/null) || stats=""
  printf '%s\t%s\t%s\t%s\n' "$((now - start))" "$pg_cpu" "$settle_cpu" "$stats"
  sleep "$EVERY"
done
