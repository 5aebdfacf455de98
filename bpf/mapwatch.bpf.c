// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Uprobes on the Go runtime's map functions, mutex slow paths and fatal path.
 *
 * One program fires at the entry of a function (just after its stack check when user space
 * found one), another at each of its RET instructions: uretprobes rewrite the return address
 * on the goroutine stack, which Go moves and walks, so they are never used. The attach cookie
 * says which function it is and what it does (bpf/mapwatch.h). Calls in flight are keyed by
 * (tgid, goid, function): a goroutine can park inside a call and resume on another thread.
 *
 * State that a call leaves in BPF must never outlive the call, or a later, innocent write
 * pairs with it (a false "concurrent write"). A call can miss its RET three ways, each closed:
 *   - it panics (a nil map, an unhashable key, recovered by the caller): runtime.gopanic is
 *     probed and drops everything the panicking goroutine has in flight;
 *   - its RET probe was not attached yet, or no longer: user space attaches every RET before
 *     any entry; before detaching a class it marks it off (mw_target_cfg.off_mask) so that
 *     its entries record nothing more; and each (re)attach bumps the class's generation
 *     number (mw_target_cfg.gen) so that entries of an older window are never trusted;
 *   - its entry could not be recorded (table full, goroutine unreadable): the writer entry
 *     is only trusted while the in-flight entry that made it is still there, unchanged.
 * runtime.Goexit cannot run inside a map function, and a goroutine that dies in one takes the
 * process with it (throw), so these are all the ways.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "mapwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct inflight_key {
	__u32 tgid;
	__u32 fn;
	__u64 goid;
};

/* The goroutine writing a map right now, per map. */
struct writer_key {
	__u32 tgid;
	__u32 _pad;
	__u64 map;
};

struct map_writer {
	__u64 goid;
	__u64 caller;
	__u64 t;		/* the writer's t_entry: names its in-flight entry */
	__u32 fn;
	__u32 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct mw_target_cfg);
} targets SEC(".maps");

/*
 * Plain hash tables, not LRU: an LRU evicts an entry silently (and before the table is full),
 * which loses a RET's pairing; here a full table fails the insert, and that is counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct mw_call_rec);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct writer_key);
	__type(value, struct map_writer);
} writers SEC(".maps");

/*
 * The record is too large for the BPF stack, and a per-CPU scratch buffer is not safe: uprobe
 * programs run with migration disabled but may be preempted, so another task on the same CPU
 * could write the buffer mid-record. Each call's record is built in place in its own
 * in-flight entry instead, inserted from this zeroed template.
 */
const volatile struct mw_call_rec zero_rec;

/*
 * A user stack costs more than the rest of the handler: it is taken for the first write of
 * each (map, caller) pair, and for every write whose immediate caller is not the user's code
 * (user space fills deep_callers: a runtime or reflect wrapper reached from many sites).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct mw_pair_key);
	__type(value, __u8);
} stacked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);	/* return address in the target (runtime address) */
	__type(value, __u8);
} deep_callers SEC(".maps");

/*
 * Writes counted at entry (mw_tally), read and deleted by user space as it goes. Per CPU: a
 * count is an add, not an atomic, and two CPUs never touch one value. Plain, not LRU: a full
 * table fails the insert, and that is counted as a loss.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MW_TALLY_ENTRIES);
	__type(key, struct mw_tally_key);
	__type(value, struct mw_tally_val);
} tally SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * Hits per process and probe point, [(slot * MW_MAX_FN + fn) * 2] entry, [... + 1] RET (what
 * each process's budget is priced on), and records lost per process (ring buffer or
 * in-flight table full), by slot. Global data, not per-CPU maps: user space reads them from
 * its own mapping of .bss, without a system call, at every step of every watched process.
 */
__u64 fn_hits[MW_MAX_TARGETS * MW_MAX_FN * 2];
__u64 lost[MW_MAX_TARGETS];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* resized by user space before load */
} events SEC(".maps");

/* Wake user space only when this many bytes are waiting; it also polls on a timer. */
const volatile __u64 wakeup_bytes = 64 * 1024;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void fn_hit(const struct mw_target_cfg *cfg, __u64 ck, __u32 ret)
{
	__u32 idx = ((cfg->slot % MW_MAX_TARGETS) * MW_MAX_FN + MW_CK_FN(ck) % MW_MAX_FN) * 2 +
		    (ret & 1);

	__sync_fetch_and_add(&fn_hits[idx], 1);
}

/* A record of this process lost: counted globally (stats) and for the process. */
static __always_inline void lose(__u32 slot, __u32 why)
{
	stat_inc(why);
	__sync_fetch_and_add(&lost[slot % MW_MAX_TARGETS], 1);
}

/* The goroutine id, or 0 if it cannot be read (goids start at 1). */
static __always_inline __u64 read_goid(struct pt_regs *ctx, const struct mw_target_cfg *cfg)
{
	__u64 goid = 0;

	if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(ctx->r14 + cfg->goid_off)))
		goid = 0;
	if (!goid)
		stat_inc(MW_STAT_GOID_FAIL);
	return goid;
}

/*
 * The object register named by the cookie. Each field is loaded on its own, behind a
 * barrier: the verifier refuses a load through a computed offset into the context.
 */
static __always_inline __u64 reg(struct pt_regs *ctx, __u64 which)
{
	__u64 ax = ctx->ax, bx = ctx->bx, cx = ctx->cx;

	asm volatile("" : "+r"(ax), "+r"(bx), "+r"(cx));
	return which == MW_REG_RAX ? ax : which == MW_REG_RBX ? bx : which == MW_REG_RCX ? cx : 0;
}

static __always_inline void submit(void *r)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(r, flags);
}

static __always_inline void report_fatal(struct pt_regs *ctx, __u32 tgid, __u64 goid,
					 __u32 slot)
{
	struct mw_fatal_rec *f = bpf_ringbuf_reserve(&events, sizeof(*f), 0);
	__u64 len = ctx->bx;
	long n;

	if (!f) {
		lose(slot, MW_STAT_RB_DROPS);
		return;
	}
	f->type = MW_REC_FATAL;
	f->tgid = tgid;
	f->goid = goid;
	f->t = bpf_ktime_get_ns();
	f->caller = 0;
	bpf_probe_read_user(&f->caller, sizeof(f->caller), (void *)ctx->sp);
	if (len > MW_MSG_BYTES)
		len = MW_MSG_BYTES;
	f->msg_len = (__u32)len;
	if (bpf_probe_read_user(f->msg, len, (void *)ctx->ax))
		f->msg_len = 0;
	n = bpf_get_stack(ctx, f->stack, sizeof(f->stack), BPF_F_USER_STACK);
	f->nstack = n < 0 ? (__s32)n : (__s32)(n / sizeof(__u64));
	bpf_ringbuf_submit(f, BPF_RB_FORCE_WAKEUP);
}

/*
 * Is this writer entry still a write in flight? Only while the in-flight entry that made it
 * is there, of the current generation, with the same entry time: otherwise its call ended
 * without a RET we saw (unwound, detached, evicted) and it proves nothing.
 */
static __always_inline bool writer_live(__u32 tgid, const struct map_writer *w, __u32 gen)
{
	struct inflight_key k = { .tgid = tgid, .fn = w->fn, .goid = w->goid };
	struct mw_call_rec *in;

	if (w->gen != gen)
		return false;
	in = bpf_map_lookup_elem(&inflight, &k);
	return in && in->t_entry == w->t && in->gen == gen;
}

/*
 * Two goroutines inside a write to one map at once: proof that one of them did not hold the
 * lock. Sent immediately: the runtime's own check may kill the target before the RETs.
 * Called after the caller's own in-flight entry is stored, so that a writer racing with it
 * on another CPU finds that entry live.
 */
static __always_inline void check_writer(struct mw_call_rec *r, __u32 slot)
{
	struct writer_key wk = { .tgid = r->tgid, .map = r->obj };
	struct map_writer *w, nw = { .goid = r->goid, .caller = r->caller, .t = r->t_entry,
				     .fn = r->fn, .gen = r->gen };
	struct map_writer first = {};
	struct mw_overlap_rec *o;
	bool flag = r->flags & MW_F_WRITING_AT_ENTRY, known = false;

	/*
	 * Atomic: of two writers entering at the same instant on two CPUs, one inserts and the
	 * other finds it (a plain lookup-then-update lets both miss).
	 */
	if (bpf_map_update_elem(&writers, &wk, &nw, BPF_NOEXIST)) {
		w = bpf_map_lookup_elem(&writers, &wk);
		if (!w) {
			/* Deleted meanwhile by its RET: no overlap with it. */
			if (bpf_map_update_elem(&writers, &wk, &nw, BPF_NOEXIST) &&
			    !bpf_map_lookup_elem(&writers, &wk))
				stat_inc(MW_STAT_WRITERS_FULL);
			if (!flag)
				return;
		} else if (w->goid == r->goid) {
			/* This goroutine's own entry: morestack re-entry, or a stale one. */
			if (w->t != r->t_entry)
				bpf_map_update_elem(&writers, &wk, &nw, BPF_ANY);
			return;
		} else if (!writer_live(r->tgid, w, r->gen)) {
			stat_inc(MW_STAT_STALE);
			bpf_map_update_elem(&writers, &wk, &nw, BPF_ANY);
			if (!flag)
				return;
		} else {
			first = *w;
			known = true;
		}
	} else if (!flag) {
		return;
	}
	o = bpf_ringbuf_reserve(&events, sizeof(*o), 0);
	if (!o) {
		lose(slot, MW_STAT_RB_DROPS);
		return;
	}
	o->type = MW_REC_OVERLAP;
	o->tgid = r->tgid;
	o->map = r->obj;
	o->maptype = r->ax;
	o->t = r->t_entry;
	o->fn_second = r->fn;
	o->goid_second = r->goid;
	o->caller_second = r->caller;
	o->flag_set = flag;
	o->fn_first = known ? first.fn : 0;
	o->goid_first = known ? first.goid : 0;
	o->caller_first = known ? first.caller : 0;
	o->t_first = known ? first.t : 0;
	o->nstack = r->nstack;
	__builtin_memcpy(o->stack, r->stack, sizeof(o->stack));
	bpf_ringbuf_submit(o, BPF_RB_FORCE_WAKEUP);
}

/*
 * A tallied write found the map's write flag set: another goroutine is inside a write of it
 * (the runtime sets the flag after hashing the key, clears it before returning, and throws
 * "concurrent map writes" when its own check finds it). Its writer is unknown here: no call is
 * paired at entry alone. Rare, so the stack is taken.
 */
static __always_inline void tally_overlap(struct pt_regs *ctx, const struct mw_tally_key *k,
					  __u64 maptype, __u64 goid, __u64 t, __u32 slot)
{
	struct mw_overlap_rec *o = bpf_ringbuf_reserve(&events, sizeof(*o), 0);
	long n;

	if (!o) {
		lose(slot, MW_STAT_RB_DROPS);
		return;
	}
	__builtin_memset(o, 0, sizeof(*o));
	o->type = MW_REC_OVERLAP;
	o->tgid = k->tgid;
	o->map = k->map;
	o->maptype = maptype;
	o->t = t;
	o->fn_second = k->fn;
	o->goid_second = goid;
	o->caller_second = k->caller;
	o->flag_set = 1;
	n = bpf_get_stack(ctx, o->stack, sizeof(o->stack), BPF_F_USER_STACK);
	o->nstack = n < 0 ? (__s32)n : (__s32)(n / sizeof(__u64));
	bpf_ringbuf_submit(o, BPF_RB_FORCE_WAKEUP);
}

/* Drop a writer entry if it is this goroutine's. */
static __always_inline void release_writer(__u32 tgid, __u64 map, __u64 goid)
{
	struct writer_key wk = { .tgid = tgid, .map = map };
	struct map_writer *w = bpf_map_lookup_elem(&writers, &wk);

	if (w && w->goid == goid)
		bpf_map_delete_elem(&writers, &wk);
}

/*
 * runtime.gopanic: the goroutine unwinds, and any call of ours it is inside never reaches its
 * RET. Drop them all (the function indexes are few; panics are rare).
 */
static __always_inline void unwind(__u32 tgid, __u64 goid)
{
	struct inflight_key k = { .tgid = tgid, .goid = goid };

	for (__u32 fn = 0; fn < MW_MAX_FN; fn++) {
		struct mw_call_rec *in;

		k.fn = fn;
		in = bpf_map_lookup_elem(&inflight, &k);
		if (!in)
			continue;
		if (in->obj)
			release_writer(tgid, in->obj, goid);
		bpf_map_delete_elem(&inflight, &k);
		stat_inc(MW_STAT_UNWOUND);
	}
}

static __always_inline int on_entry(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ck = bpf_get_attach_cookie(ctx);
	struct inflight_key key = { .tgid = pid_tgid >> 32, .fn = MW_CK_FN(ck) };
	struct mw_target_cfg *cfg;
	struct mw_call_rec *r, *old;
	__u64 obj;
	__u32 gen;
	long n;

	stat_inc(MW_STAT_ENTRY_HITS);
	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg) {
		stat_inc(MW_STAT_NO_TARGET);
		return 0;
	}
	fn_hit(cfg, ck, 0);
	if (cfg->off_mask & (1u << MW_CK_CLASS(ck)))
		return 0;	/* being detached */
	key.goid = read_goid(ctx, cfg);
	if (ck & MW_CK_FATAL) {
		report_fatal(ctx, key.tgid, key.goid, cfg->slot);
		return 0;
	}
	if (!key.goid)
		return 0;	/* cannot be paired with its RET */
	if (ck & MW_CK_UNWIND) {
		unwind(key.tgid, key.goid);
		return 0;
	}
	obj = reg(ctx, MW_CK_REG(ck));
	gen = cfg->gen[MW_CK_CLASS(ck)];

	/* A prologue that went through morestack re-enters here: keep one record. */
	old = bpf_map_lookup_elem(&inflight, &key);
	if (old) {
		if (old->obj == obj && old->gen == gen) {
			old->entries++;
			stat_inc(MW_STAT_REENTRY);
			return 0;
		}
		/* Left by a call that never returned to us: it is overwritten below. */
		if (old->obj && (ck & MW_CK_WRITE))
			release_writer(key.tgid, old->obj, key.goid);
		stat_inc(MW_STAT_STALE);
	}

	if (bpf_map_update_elem(&inflight, &key, (const void *)&zero_rec, BPF_ANY)) {
		lose(cfg->slot, MW_STAT_INFLIGHT_FULL);
		return 0;	/* no RET will pair with it: not a writer either */
	}
	r = bpf_map_lookup_elem(&inflight, &key);
	if (!r)
		return 0;
	r->type = MW_REC_CALL;
	r->tgid = key.tgid;
	r->fn = key.fn;
	r->flags = 0;
	r->goid = key.goid;
	r->gen = gen;
	r->obj = obj;
	r->ax = ctx->ax;
	r->bx = ctx->bx;
	r->ret = 0;
	r->caller = 0;
	bpf_probe_read_user(&r->caller, sizeof(r->caller), (void *)ctx->sp);
	r->tid_entry = (__u32)pid_tgid;
	r->tid_ret = 0;
	r->entries = 1;
	r->t_ret = 0;
	if (!r->obj) {
		__builtin_memset(r->hdr_before, 0, sizeof(r->hdr_before));
	} else if (bpf_probe_read_user(r->hdr_before, sizeof(r->hdr_before), (void *)r->obj)) {
		__builtin_memset(r->hdr_before, 0, sizeof(r->hdr_before));
		r->flags |= MW_F_HDR_BEFORE_BAD;
		stat_inc(MW_STAT_HDR_FAIL);
	} else if ((ck & MW_CK_WRITE) && cfg->writing_off < MW_HDR_BYTES &&
		   (r->hdr_before[cfg->writing_off & (MW_HDR_BYTES - 1)] & cfg->writing_mask)) {
		r->flags |= MW_F_WRITING_AT_ENTRY;
	}

	{
		struct mw_pair_key pk = { .tgid = key.tgid, .map = obj, .caller = r->caller };
		__u8 one = 1;

		if ((ck & MW_CK_WRITE) && obj && bpf_map_lookup_elem(&stacked, &pk) &&
		    !bpf_map_lookup_elem(&deep_callers, &pk.caller)) {
			r->nstack = 0;
			r->flags |= MW_F_STACK_KNOWN;
		} else {
			n = bpf_get_stack(ctx, r->stack, sizeof(r->stack), BPF_F_USER_STACK);
			r->nstack = n < 0 ? (__s32)n : (__s32)(n / sizeof(__u64));
			if (n > 0) {
				r->flags |= MW_F_STACK;
				if ((ck & MW_CK_WRITE) && obj)
					bpf_map_update_elem(&stacked, &pk, &one, BPF_ANY);
			}
		}
	}
	if (r->obj) {
		/* A map on a goroutine stack moves when the stack is copied: not an identity. */
		__u64 lo = 0, hi = 0;

		bpf_probe_read_user(&lo, sizeof(lo), (void *)(ctx->r14 + cfg->stack_lo_off));
		bpf_probe_read_user(&hi, sizeof(hi), (void *)(ctx->r14 + cfg->stack_hi_off));
		if (r->obj >= lo && r->obj < hi)
			r->flags |= MW_F_ON_STACK;
	}
	r->t_entry = bpf_ktime_get_ns();

	/*
	 * A map on the writer's own stack never escaped: no other goroutine can write it. And
	 * its address is no identity: the stack can be copied while the write is in flight (a
	 * callee grows it, or the GC shrinks it while the writer is parked in an assist), and
	 * another goroutine's stack (or heap object) can take the old address.
	 */
	if ((ck & MW_CK_WRITE) && r->obj && !(r->flags & MW_F_ON_STACK))
		check_writer(r, cfg->slot);
	return 0;
}

static __always_inline int on_ret(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ck = bpf_get_attach_cookie(ctx);
	struct inflight_key key = { .tgid = pid_tgid >> 32, .fn = MW_CK_FN(ck) };
	struct mw_target_cfg *cfg;
	struct mw_call_rec *in, *r;

	stat_inc(MW_STAT_RET_HITS);
	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	fn_hit(cfg, ck, 1);
	key.goid = read_goid(ctx, cfg);
	if (!key.goid)
		return 0;
	in = bpf_map_lookup_elem(&inflight, &key);
	if (!in) {
		stat_inc(MW_STAT_RET_NO_ENTRY);
		return 0;
	}
	if ((ck & MW_CK_WRITE) && in->obj)
		release_writer(key.tgid, in->obj, key.goid);
	if (in->gen != cfg->gen[MW_CK_CLASS(ck)]) {
		/* Entered in an older window: its timing spans a detach. */
		stat_inc(MW_STAT_STALE);
		bpf_map_delete_elem(&inflight, &key);
		return 0;
	}

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		lose(cfg->slot, MW_STAT_RB_DROPS);
		bpf_map_delete_elem(&inflight, &key);
		return 0;
	}
	__builtin_memcpy(r, in, sizeof(*r));
	r->t_ret = bpf_ktime_get_ns();
	r->tid_ret = (__u32)pid_tgid;
	r->ret = ctx->ax;
	if (ck & MW_CK_RESULT)
		r->obj = ctx->ax;
	if (!r->obj) {
		__builtin_memset(r->hdr_after, 0, sizeof(r->hdr_after));
	} else if (bpf_probe_read_user(r->hdr_after, sizeof(r->hdr_after), (void *)r->obj)) {
		__builtin_memset(r->hdr_after, 0, sizeof(r->hdr_after));
		r->flags |= MW_F_HDR_AFTER_BAD;
		stat_inc(MW_STAT_HDR_FAIL);
	}
	bpf_map_delete_elem(&inflight, &key);
	submit(r);
	return 0;
}

/*
 * A map write counted at its entry alone: one trap (emulated, on the PUSH after the stack
 * check), no pairing, no record; a per-CPU count by (map, seed, caller) that user space reads.
 * What it cannot give (the writer's goroutine, the header after, a stack) the full handlers
 * above give in their own windows. Probes of this kind are never attached with those on the
 * same functions: user space alternates them.
 */
static __always_inline int on_tally(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ck = bpf_get_attach_cookie(ctx);
	struct mw_tally_key k = { .tgid = pid_tgid >> 32 };
	struct mw_target_cfg *cfg;
	struct mw_tally_val *v, nv = {};
	__u64 lo = 0, hi = 0, now;

	stat_inc(MW_STAT_ENTRY_HITS);
	cfg = bpf_map_lookup_elem(&targets, &k.tgid);
	if (!cfg) {
		stat_inc(MW_STAT_NO_TARGET);
		return 0;
	}
	fn_hit(cfg, ck, 0);
	if (cfg->off_mask & (1u << MW_CK_CLASS(ck)))
		return 0;	/* being detached */
	k.fn = MW_CK_FN(ck) - MW_FN_TALLY;
	k.map = reg(ctx, MW_CK_REG(ck));
	if (!k.map)
		return 0;
	bpf_probe_read_user(&k.caller, sizeof(k.caller), (void *)ctx->sp);
	if (bpf_probe_read_user(nv.hdr, sizeof(nv.hdr), (void *)k.map)) {
		stat_inc(MW_STAT_HDR_FAIL);
		return 0;	/* not a header: nothing to count it on */
	}
	if (cfg->seed_off <= MW_HDR_BYTES - sizeof(__u64)) {
		__builtin_memcpy(&k.seed, &nv.hdr[cfg->seed_off & (MW_HDR_BYTES - 8)],
				 sizeof(k.seed));
		if (cfg->seed_bytes == 4)	/* not the next field's bytes: a grow changes them */
			k.seed &= 0xffffffffULL;
	}
	bpf_probe_read_user(&lo, sizeof(lo), (void *)(ctx->r14 + cfg->stack_lo_off));
	bpf_probe_read_user(&hi, sizeof(hi), (void *)(ctx->r14 + cfg->stack_hi_off));
	if (k.map >= lo && k.map < hi)
		k.flags |= MW_F_ON_STACK;
	now = bpf_ktime_get_ns();
	nv.maptype = ctx->ax;
	if (!(k.flags & MW_F_ON_STACK) && cfg->writing_off < MW_HDR_BYTES &&
	    (nv.hdr[cfg->writing_off & (MW_HDR_BYTES - 1)] & cfg->writing_mask))
		tally_overlap(ctx, &k, ctx->ax, read_goid(ctx, cfg), now, cfg->slot);

	v = bpf_map_lookup_elem(&tally, &k);
	if (!v) {
		nv.n = 1;
		nv.t_first = nv.t_last = now;
		if (!bpf_map_update_elem(&tally, &k, &nv, BPF_NOEXIST))
			return 0;
		/* inserted meanwhile from another CPU (this CPU's value is zero), or table full */
		v = bpf_map_lookup_elem(&tally, &k);
		if (!v) {
			lose(cfg->slot, MW_STAT_TALLY_FULL);
			return 0;
		}
	}
	if (!v->n++)
		v->t_first = now;
	v->t_last = now;
	v->maptype = nv.maptype;
	__builtin_memcpy(v->hdr, nv.hdr, sizeof(v->hdr));
	return 0;
}

/*
 * The same handlers as uprobe_multi programs: a whole set of probe points is attached, and
 * detached, in one call (user space falls back to the single-uprobe programs without it).
 */
SEC("uprobe")
int BPF_KPROBE(mw_entry)
{
	return on_entry(ctx);
}

SEC("uprobe")
int BPF_KPROBE(mw_ret)
{
	return on_ret(ctx);
}

SEC("uprobe")
int BPF_KPROBE(mw_tally)
{
	return on_tally(ctx);
}

SEC("uprobe.multi")
int BPF_KPROBE(mw_tally_multi)
{
	return on_tally(ctx);
}

SEC("uprobe.multi")
int BPF_KPROBE(mw_entry_multi)
{
	return on_entry(ctx);
}

SEC("uprobe.multi")
int BPF_KPROBE(mw_ret_multi)
{
	return on_ret(ctx);
}

/*
 * Calibration: user space times calls of one of its own functions with this program on it
 * (an uprobe trap costs the same whatever the program does, within a few percent).
 */
SEC("uprobe")
int BPF_KPROBE(mw_calib)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	return bpf_map_lookup_elem(&targets, &tgid) ? 1 : 0;
}
