# SPDX-License-Identifier: MIT
# Consistency of one capture report (mapwatch.capture/v1), for test_real_servers.sh: every
# number must be one a map can have. Emits, per rule, the offending maps or findings (an
# empty list when the rule holds), and the findings counted by kind.
#
# Bounds used below:
#   - a count, capacity or byte size of 2^40 or more is a pointer read as a number;
#   - bytes per slot: at least 1 (a Swiss control byte; an hmap bucket has 8 tophash bytes and
#     an overflow pointer for 8 slots), at most 400 (keys and values over 128 bytes are stored
#     as pointers: <= 258 per slot in an hmap bucket, 257 in a Swiss group, plus an hmap's old
#     array of half the size while it grows), plus 64 KiB of Swiss directory;
#   - an hmap's capacity is 8 << B;
#   - a map made during the capture never had more room than its peak count or its size hint
#     call for: a map grows when it is 13/16 (hmap) or 7/8 (Swiss) full and doubles, so its
#     capacity stays under 3 * max(peak, hint) + 8;
#   - an hmap half-way through growing has B >= 1 and has evacuated at most 2^B old buckets;
#   - a rate is judged over at least one second (the re-read period), so it cannot exceed
#     the total count it is a rate of;
#   - counts of inserts bound the count only when every write was seen (no budget windows:
#     overhead.write_observed_fraction 1); sampled, the re-read count may run ahead of them.

def big: . != null and . >= 1099511627776;
def mlabel: "\(.id) \(.type // "?") len \(.len) peak \(.peak_len) first \(.len_first_seen) inserts \(.inserts) cap \(.capacity) bytes \(.bytes) B \(.B)";
def fsum: "\(.kind): \(.summary)";

.duration_s as $d
| ((.overhead.write_observed_fraction // 1) >= 1) as $all_writes
| ([.maps[] | select(.assigns + .deletes + .clears > 0) | {key: .id, value: true}]
   | from_entries) as $written
| {
	pointer: [.maps[]
		| select([.len, .peak_len, .len_first_seen, .inserts, .removals, .capacity, .bytes,
			  .growths, .assigns, .deletes] | any(big))
		| mlabel],
	len_over_capacity: [.maps[] | select(.capacity != null and .len > .capacity) | mlabel],
	len_over_inserts: [.maps[] | select($all_writes and .len > .len_first_seen + .inserts)
		| mlabel],
	peak_below_len: [.maps[] | select(.peak_len < .len) | mlabel],
	bytes_vs_capacity: [.maps[]
		| select((.capacity != null and .bytes != null
			  and (.bytes < .capacity or .bytes > .capacity * 400 + 65536))
			 or (.capacity == null and .bytes != null)
			 or (.B != null and .capacity != null and .B <= 56
			     and .capacity != 8 * pow(2; .B)))
		| mlabel],
	capacity_never_had: [.maps[]
		| select(.created_at != null and .capacity != null
			 and .capacity > 3 * ([.peak_len, .size_hint // 0] | max) + 8)
		| mlabel],
	evacuation_state: [.findings[]
		| select(.kind == "stalled_evacuation"
			 and (.evidence.B < 1 or .evidence.B > 56 or .evidence.nevacuate > pow(2; .evidence.B)))
		| fsum],
	stall_over_duration: [.findings[]
		| select(.kind == "stalled_evacuation" and (.evidence.stalled_s > $d)) | fsum],
	rates: [.findings[]
		| select((.kind == "unbounded_growth" and $all_writes
			  and (.evidence.entries_per_s > .evidence.inserts
			       or .evidence.len > .evidence.len_first_seen + .evidence.inserts))
			 or (.kind == "lock_contention"
			     and (.evidence.total_wait_s > .evidence.waiters * $d
				  or .evidence.p99_wait_ms > $d * 1000
				  or .evidence.waiters > .evidence.waits))
			 or (.kind == "syncmap_churn"
			     and (.evidence.rebuilds_per_s > .evidence.rebuilds
				  or .evidence.entries_copied_per_s > .evidence.entries_copied)))
		| fsum],
	unwritten: [.findings[]
		| select(.map != null and .kind != "syncmap_churn" and ($written[.map] | not))
		| fsum],
	kinds: (.findings | group_by(.kind) | map({key: .[0].kind, value: length}) | from_entries)
}
