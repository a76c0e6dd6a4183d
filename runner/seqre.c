/*
 * seqre: a Thompson NFA over event types.
 *
 * The pattern is compiled by recursive descent straight into NFA states (Russ
 * Cox's "Regular Expression Matching Can Be Simple And Fast"), and matching
 * keeps the set of live states, so the cost is O(events * states) whatever the
 * pattern: "((a*)*)*" over ten thousand events is as cheap as "a*".  A state
 * set never holds a state twice, so nested stars cannot blow up.
 */
#include "runner/seqre.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ktable.h"

#define SEQRE_MAX_PATTERN 4096  /* bytes of pattern text */
#define SEQRE_MAX_DEPTH   64    /* nested parentheses */

enum op { OP_NAME, OP_ANY, OP_SPLIT, OP_MATCH };

struct state {
	enum op op;
	int out;                 /* next state (OP_NAME, OP_ANY, OP_SPLIT) */
	int out1;                /* second branch (OP_SPLIT) */
	const char *name;        /* OP_NAME: points into seqre.names */
	size_t name_len;
};

struct seqre {
	struct state *states;
	int nstates;
	int start;
	char *names;             /* a copy of the pattern, which names point into */
};

/*
 * A fragment under construction: its start state and the list of its dangling
 * exits.  The list is threaded through the unset out fields themselves: an
 * entry is state*2 (its out) or state*2+1 (its out1), and the field holds the
 * next entry, -1 ending the list.
 */
struct frag {
	int start;
	int exits;
};

struct parser {
	const char *p;           /* the pattern (the copy in re->names) */
	size_t pos;
	int depth;
	struct seqre *re;
	int cap;
	struct buf *err;
	int failed;
};

static int *exit_field(struct seqre *re, int e)
{
	return e & 1 ? &re->states[e >> 1].out1 : &re->states[e >> 1].out;
}

static void patch(struct seqre *re, int exits, int to)
{
	while (exits != -1) {
		int *f = exit_field(re, exits);
		exits = *f;
		*f = to;
	}
}

static int append_exits(struct seqre *re, int a, int b)
{
	if (a == -1)
		return b;
	int e = a;
	for (;;) {
		int *f = exit_field(re, e);
		if (*f == -1) {
			*f = b;
			return a;
		}
		e = *f;
	}
}

static void fail_at(struct parser *ps, const char *what)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (ps->err)
		buf_printf(ps->err, "column %zu: %s", ps->pos + 1, what);
}

static int new_state(struct parser *ps, enum op op)
{
	if (ps->re->nstates >= ps->cap) {
		/* cannot happen: cap is sized from the pattern length */
		fail_at(ps, "pattern too complex");
		return -1;
	}
	int i = ps->re->nstates++;
	struct state *s = &ps->re->states[i];
	s->op = op;
	s->out = -1;
	s->out1 = -1;
	s->name = NULL;
	s->name_len = 0;
	return i;
}

static void skip_space(struct parser *ps)
{
	while (ps->p[ps->pos] == ' ' || ps->p[ps->pos] == '\t' || ps->p[ps->pos] == '\n' ||
	       ps->p[ps->pos] == '\r')
		ps->pos++;
}

static int name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int parse_alt(struct parser *ps, struct frag *out);

/* atom := NAME | "." | "(" alt ")" */
static int parse_atom(struct parser *ps, struct frag *out)
{
	char c = ps->p[ps->pos];
	if (name_start(c)) {
		size_t begin = ps->pos;
		while (name_char(ps->p[ps->pos]))
			ps->pos++;
		int s = new_state(ps, OP_NAME);
		if (s < 0)
			return -1;
		ps->re->states[s].name = ps->p + begin;
		ps->re->states[s].name_len = ps->pos - begin;
		out->start = s;
		out->exits = s * 2;
		return 0;
	}
	if (c == '.') {
		ps->pos++;
		int s = new_state(ps, OP_ANY);
		if (s < 0)
			return -1;
		out->start = s;
		out->exits = s * 2;
		return 0;
	}
	if (c == '(') {
		if (++ps->depth > SEQRE_MAX_DEPTH) {
			fail_at(ps, "parentheses nested too deeply");
			return -1;
		}
		ps->pos++;
		if (parse_alt(ps, out) < 0)
			return -1;
		skip_space(ps);
		if (ps->p[ps->pos] != ')') {
			fail_at(ps, "missing \")\"");
			return -1;
		}
		ps->pos++;
		ps->depth--;
		return 0;
	}
	if (c == '\0')
		fail_at(ps, "expected an event type, \".\" or \"(\" at the end");
	else if (c == '*' || c == '+' || c == '?')
		fail_at(ps, "nothing to repeat");
	else if (c == ')' || c == '|')
		fail_at(ps, "empty expression");
	else
		fail_at(ps, "unexpected character");
	return -1;
}

/* repeat := atom ("*" | "+" | "?")* */
static int parse_repeat(struct parser *ps, struct frag *out)
{
	if (parse_atom(ps, out) < 0)
		return -1;
	for (;;) {
		skip_space(ps); /* "token *" reads as "token*" */
		char c = ps->p[ps->pos];
		if (c != '*' && c != '+' && c != '?')
			return 0;
		ps->pos++;
		int s = new_state(ps, OP_SPLIT);
		if (s < 0)
			return -1;
		ps->re->states[s].out = out->start;
		if (c == '*') {
			patch(ps->re, out->exits, s);
			out->start = s;
			out->exits = s * 2 + 1;
		} else if (c == '+') {
			patch(ps->re, out->exits, s);
			out->exits = s * 2 + 1;
		} else {
			out->exits = append_exits(ps->re, out->exits, s * 2 + 1);
			out->start = s;
		}
	}
}

/* concat := repeat+ */
static int parse_concat(struct parser *ps, struct frag *out)
{
	skip_space(ps);
	if (parse_repeat(ps, out) < 0)
		return -1;
	for (;;) {
		skip_space(ps);
		char c = ps->p[ps->pos];
		if (c == '\0' || c == ')' || c == '|')
			return 0;
		struct frag next;
		if (parse_repeat(ps, &next) < 0)
			return -1;
		patch(ps->re, out->exits, next.start);
		out->exits = next.exits;
	}
}

/* alt := concat ("|" concat)* */
static int parse_alt(struct parser *ps, struct frag *out)
{
	if (parse_concat(ps, out) < 0)
		return -1;
	for (;;) {
		skip_space(ps);
		if (ps->p[ps->pos] != '|')
			return 0;
		ps->pos++;
		struct frag right;
		if (parse_concat(ps, &right) < 0)
			return -1;
		int s = new_state(ps, OP_SPLIT);
		if (s < 0)
			return -1;
		ps->re->states[s].out = out->start;
		ps->re->states[s].out1 = right.start;
		out->start = s;
		out->exits = append_exits(ps->re, out->exits, right.exits);
	}
}

static unsigned long compilations;   /* atomic: seqre_compilations */

struct seqre *seqre_compile(const char *pattern, struct buf *err)
{
	struct seqre *re = NULL;
	size_t len = strlen(pattern);
	__atomic_add_fetch(&compilations, 1, __ATOMIC_RELAXED);
	if (len > SEQRE_MAX_PATTERN) {
		if (err)
			buf_printf(err, "pattern longer than %d bytes", SEQRE_MAX_PATTERN);
		return NULL;
	}
	re = calloc(1, sizeof(*re));
	if (!re)
		goto nomem;
	re->names = strdup(pattern);
	/* Every byte of pattern makes at most one state; one more for the final match. */
	int cap = (int)len + 2;
	re->states = calloc((size_t)cap, sizeof(*re->states));
	if (!re->names || !re->states)
		goto nomem;

	struct parser ps = { .p = re->names, .re = re, .cap = cap, .err = err };
	struct frag f;
	skip_space(&ps);
	if (ps.p[0] == '\0' || ps.p[ps.pos] == '\0') {
		fail_at(&ps, "empty pattern");
		goto fail;
	}
	if (parse_alt(&ps, &f) < 0)
		goto fail;
	skip_space(&ps);
	if (ps.p[ps.pos] != '\0') {
		fail_at(&ps, ps.p[ps.pos] == ')' ? "unbalanced \")\"" : "unexpected character");
		goto fail;
	}
	int m = new_state(&ps, OP_MATCH);
	if (m < 0)
		goto fail;
	patch(re, f.exits, m);
	re->start = f.start;
	return re;

nomem:
	if (err)
		buf_adds(err, "out of memory");
fail:
	seqre_free(re);
	return NULL;
}

void seqre_free(struct seqre *re)
{
	if (!re)
		return;
	free(re->states);
	free(re->names);
	free(re);
}

/*
 * A set of states, deduplicated with a generation mark per state; adding a
 * state follows SPLIT edges (the epsilon closure) with an explicit stack.
 */
struct sset {
	int *v;
	int n;
};

struct sim {
	const struct seqre *re;
	unsigned *mark;
	unsigned gen;
	int *stack;
};

static void sset_add(struct sim *sim, struct sset *set, int s)
{
	int sp = 0;
	sim->stack[sp++] = s;
	while (sp) {
		int i = sim->stack[--sp];
		if (i < 0 || sim->mark[i] == sim->gen)
			continue;
		sim->mark[i] = sim->gen;
		const struct state *st = &sim->re->states[i];
		if (st->op == OP_SPLIT) {
			/* out1 first so out is explored first: order does not matter for a set */
			sim->stack[sp++] = st->out1;
			sim->stack[sp++] = st->out;
		} else {
			set->v[set->n++] = i;
		}
	}
}

static int state_accepts(const struct state *st, const char *type)
{
	if (st->op == OP_ANY)
		return 1;
	if (st->op != OP_NAME)
		return 0;
	return strlen(type) == st->name_len && memcmp(type, st->name, st->name_len) == 0;
}

/*
 * Run the NFA over types; *consumed is how many types were read before the set
 * went empty (n when it never did).  Returns whether the end state is live at the end.
 */
static int simulate(const struct seqre *re, const char *const *types, size_t n, size_t *consumed)
{
	int ok = 0;
	size_t N = (size_t)re->nstates;
	struct sim sim = { .re = re };
	struct sset cur = { 0 }, next = { 0 };
	sim.mark = calloc(N, sizeof(*sim.mark));
	/* each state is pushed at most twice per closure (once per incoming SPLIT edge) plus the seed */
	sim.stack = malloc((2 * N + 1) * sizeof(*sim.stack));
	cur.v = malloc(N * sizeof(*cur.v));
	next.v = malloc(N * sizeof(*next.v));
	*consumed = 0;
	if (!sim.mark || !sim.stack || !cur.v || !next.v)
		goto done;

	sim.gen = 1;
	sset_add(&sim, &cur, re->start);
	size_t i;
	for (i = 0; i < n && cur.n; i++) {
		sim.gen++;
		next.n = 0;
		for (int k = 0; k < cur.n; k++) {
			const struct state *st = &re->states[cur.v[k]];
			if (state_accepts(st, types[i] ? types[i] : ""))
				sset_add(&sim, &next, st->out);
		}
		struct sset t = cur;
		cur = next;
		next = t;
		if (cur.n)
			*consumed = i + 1;
	}
	if (i == n)
		for (int k = 0; k < cur.n; k++)
			if (re->states[cur.v[k]].op == OP_MATCH)
				ok = 1;
done:
	free(sim.mark);
	free(sim.stack);
	free(cur.v);
	free(next.v);
	return ok;
}

bool seqre_match(const struct seqre *re, const char *const *types, size_t n)
{
	size_t consumed;
	return simulate(re, types, n, &consumed);
}

size_t seqre_prefix(const struct seqre *re, const char *const *types, size_t n)
{
	size_t consumed;
	simulate(re, types, n, &consumed);
	return consumed;
}

/* ---- compiled once --------------------------------------------------------------------------- */

static void seqre_free_cb(void *re)
{
	seqre_free(re);
}

static struct ktable kept = KTABLE_INIT(SEQRE_TABLE_MAX, seqre_free_cb);

int seqre_register(const char *pattern, struct buf *err)
{
	if (ktable_get(&kept, pattern))
		return 0;
	struct seqre *re = seqre_compile(pattern, err);
	if (!re)
		return -1;
	ktable_put(&kept, pattern, re);   /* a full table keeps nothing: the check then compiles its own */
	return 0;
}

const struct seqre *seqre_kept(const char *pattern)
{
	return ktable_get(&kept, pattern);
}

unsigned long seqre_compilations(void)
{
	return __atomic_load_n(&compilations, __ATOMIC_RELAXED);
}
