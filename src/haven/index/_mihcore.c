/*
 * Haven's hot loop: candidate generation and verification for exact multi-index hashing
 * (MIH) over 256-bit hashes, and a brute-force scan for the small delta segment.
 *
 * Why C: a query at 10M hashes touches tens of thousands of scattered 32-byte rows; the
 * time is memory latency, so the loop prefetches the rows of upcoming candidates while it
 * checks the current one. numpy cannot express that, and a JIT would add a heavy
 * dependency and start-up cost for ~150 lines.
 *
 * Layout (planned by haven/index/mih.py, plain buffers):
 *   hashes    N x 32 bytes, row = slot
 *   tables    one row per table: its key is `bits` consecutive bits of the hash
 *   offsets   per table, CSR bucket starts (2**bits + 1 uint32), concatenated
 *   postings  tables x N uint32: slots sorted by that table's key
 *   dead      N bytes, 1 = removed (tombstone), checked before a match is reported
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BYTES 32
#define PREFETCH_AHEAD 12

typedef struct {
    uint32_t *query;
    uint32_t *slot;
    uint16_t *distance;
    Py_ssize_t count;
    Py_ssize_t capacity;
} results_t;

static int results_push(results_t *r, uint32_t query, uint32_t slot, uint16_t distance) {
    if (r->count == r->capacity) {
        Py_ssize_t capacity = r->capacity ? r->capacity * 2 : 1024;
        uint32_t *q = realloc(r->query, (size_t)capacity * sizeof(uint32_t));
        if (!q) return -1;
        r->query = q;
        uint32_t *s = realloc(r->slot, (size_t)capacity * sizeof(uint32_t));
        if (!s) return -1;
        r->slot = s;
        uint16_t *d = realloc(r->distance, (size_t)capacity * sizeof(uint16_t));
        if (!d) return -1;
        r->distance = d;
        r->capacity = capacity;
    }
    r->query[r->count] = query;
    r->slot[r->count] = slot;
    r->distance[r->count] = distance;
    r->count++;
    return 0;
}

static void results_free(results_t *r) {
    free(r->query);
    free(r->slot);
    free(r->distance);
}

static PyObject *results_to_tuple(results_t *r) {
    PyObject *q = PyBytes_FromStringAndSize((const char *)r->query, r->count * 4);
    PyObject *s = PyBytes_FromStringAndSize((const char *)r->slot, r->count * 4);
    PyObject *d = PyBytes_FromStringAndSize((const char *)r->distance, r->count * 2);
    if (!q || !s || !d) {
        Py_XDECREF(q);
        Py_XDECREF(s);
        Py_XDECREF(d);
        return NULL;
    }
    return Py_BuildValue("(NNN)", q, s, d);
}

static inline void load_words(const uint8_t *row, uint64_t w[4]) { memcpy(w, row, HASH_BYTES); }

static inline int distance_to(const uint64_t q[4], const uint8_t *row) {
    uint64_t w[4];
    load_words(row, w);
    return __builtin_popcountll(q[0] ^ w[0]) + __builtin_popcountll(q[1] ^ w[1]) +
           __builtin_popcountll(q[2] ^ w[2]) + __builtin_popcountll(q[3] ^ w[3]);
}

/* A table's key: `len` (<= 24) bits of the hash starting at bit `start`, most significant
 * bit first. `padded` must have 4 readable bytes from start / 8, hence the 36-byte copies. */
static inline uint32_t key_of(const uint8_t *padded, int start, int len) {
    const uint8_t *p = padded + start / 8;
    uint32_t word = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return (word << (start % 8)) >> (32 - len);
}

static inline void pad_row(const uint8_t *row, uint8_t out[HASH_BYTES + 4]) {
    memcpy(out, row, HASH_BYTES);
    memset(out + HASH_BYTES, 0, 4);
}

/* Per-table parameters, one int64 row each in the `tables` buffer. */
enum { T_START, T_BITS, T_THRESHOLD, T_OFFSETS_BASE, T_MASKS_BASE, T_MASKS_COUNT, T_FIELDS };

/* True when `table` is the first probed table in which the candidate's key lies within that
 * table's threshold: each true match is then reported exactly once, with no hash set. */
static int first_table(const uint8_t *padded_query, const uint8_t *row, int table,
                       const int64_t *tables) {
    uint8_t padded_row[HASH_BYTES + 4];
    pad_row(row, padded_row);
    for (int t = 0; t < table; t++) {
        const int64_t *spec = tables + t * T_FIELDS;
        if (spec[T_THRESHOLD] < 0) continue;
        int start = (int)spec[T_START], bits = (int)spec[T_BITS];
        uint32_t diff = key_of(padded_query, start, bits) ^ key_of(padded_row, start, bits);
        if (__builtin_popcount(diff) <= spec[T_THRESHOLD]) return 0;
    }
    return 1;
}

typedef struct {
    Py_buffer queries, hashes, offsets, postings, dead, tables, masks;
} search_buffers_t;

/* search(queries, hashes, offsets, postings, dead, tables, masks, radius)
 *   tables: int64 rows (start bit, key bits, threshold (-1: unused), base in offsets,
 *           base in masks, mask count): the buckets probed are key ^ masks[base:base+count]
 *   offsets: every table's CSR bucket starts (2**bits + 1 each), concatenated
 *   postings: tables x N uint32 slots, each table's sorted by its key
 * Returns (query_index uint32 bytes, slot uint32 bytes, distance uint16 bytes). */
static PyObject *mih_search(PyObject *self, PyObject *args) {
    (void)self;
    search_buffers_t b;
    memset(&b, 0, sizeof b);
    int radius;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*i", &b.queries, &b.hashes, &b.offsets,
                          &b.postings, &b.dead, &b.tables, &b.masks, &radius))
        return NULL;
    PyObject *out = NULL;
    results_t res = {0};
    Py_ssize_t n = b.hashes.len / HASH_BYTES;
    Py_ssize_t nq = b.queries.len / HASH_BYTES;
    int table_count = (int)(b.tables.len / (T_FIELDS * 8));
    const int64_t *tables = b.tables.buf;
    int valid = b.tables.len % (T_FIELDS * 8) == 0 && b.postings.len == n * table_count * 4 &&
                b.dead.len == n && b.queries.len % HASH_BYTES == 0 &&
                b.hashes.len % HASH_BYTES == 0;
    for (int t = 0; valid && t < table_count; t++) {
        const int64_t *spec = tables + t * T_FIELDS;
        valid = spec[T_BITS] >= 1 && spec[T_BITS] <= 24 && spec[T_START] >= 0 &&
                spec[T_START] + spec[T_BITS] <= HASH_BYTES * 8 && spec[T_OFFSETS_BASE] >= 0 &&
                (spec[T_OFFSETS_BASE] + (1LL << spec[T_BITS]) + 1) * 4 <= b.offsets.len &&
                spec[T_MASKS_BASE] >= 0 && spec[T_MASKS_COUNT] >= 0 &&
                (spec[T_MASKS_BASE] + spec[T_MASKS_COUNT]) * 4 <= b.masks.len;
    }
    if (!valid) {
        PyErr_SetString(PyExc_ValueError, "index buffers have inconsistent sizes");
        goto done;
    }
    const uint8_t *hashes = b.hashes.buf;
    const uint32_t *offsets = b.offsets.buf;
    const uint32_t *postings = b.postings.buf;
    const uint8_t *dead = b.dead.buf;
    const uint32_t *masks = b.masks.buf;
    int failed = 0;
    uint32_t *scratch = NULL, *probe_start = NULL;
    Py_ssize_t scratch_capacity = 0, probe_capacity = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t qi = 0; qi < nq && !failed; qi++) {
        uint8_t query[HASH_BYTES + 4];
        pad_row((const uint8_t *)b.queries.buf + qi * HASH_BYTES, query);
        uint64_t q[4];
        load_words(query, q);
        for (int table = 0; table < table_count && !failed; table++) {
            const int64_t *spec = tables + table * T_FIELDS;
            if (spec[T_THRESHOLD] < 0) continue;
            uint32_t key = key_of(query, (int)spec[T_START], (int)spec[T_BITS]);
            const uint32_t *table_offsets = offsets + spec[T_OFFSETS_BASE];
            const uint32_t *table_postings = postings + (size_t)table * n;
            const uint32_t *table_masks = masks + spec[T_MASKS_BASE];
            /* Probing is a chain of two cache misses per bucket (its offsets, then its
             * postings), and at 10M a query probes ~2,800 buckets: so the probes are
             * pipelined, with the offsets and then the postings of later buckets
             * prefetched while earlier ones are read. */
            Py_ssize_t probes = (Py_ssize_t)spec[T_MASKS_COUNT];
            if (probes > probe_capacity) {
                Py_ssize_t capacity = probes * 2;
                uint32_t *grown = realloc(probe_start, (size_t)capacity * 2 * sizeof(uint32_t));
                if (!grown) {
                    failed = 1;
                    break;
                }
                probe_start = grown;
                probe_capacity = capacity;
            }
            uint32_t *probe_stop = probe_start + probe_capacity;
            for (Py_ssize_t p = 0; p < probes && p < PREFETCH_AHEAD; p++)
                __builtin_prefetch(table_offsets + (key ^ table_masks[p]));
            Py_ssize_t total = 0;
            for (Py_ssize_t p = 0; p < probes; p++) {
                if (p + PREFETCH_AHEAD < probes)
                    __builtin_prefetch(table_offsets + (key ^ table_masks[p + PREFETCH_AHEAD]));
                uint32_t bucket = key ^ table_masks[p];
                uint32_t start = table_offsets[bucket], stop = table_offsets[bucket + 1];
                if (start > stop || stop > (uint64_t)n) {
                    failed = 2; /* a damaged index: never follow its offsets */
                    break;
                }
                probe_start[p] = start;
                probe_stop[p] = stop;
                total += (Py_ssize_t)(stop - start);
                __builtin_prefetch(table_postings + start);
            }
            if (failed) break;
            if (total > scratch_capacity) {
                Py_ssize_t capacity = total * 2;
                uint32_t *grown = realloc(scratch, (size_t)capacity * sizeof(uint32_t));
                if (!grown) {
                    failed = 1;
                    break;
                }
                scratch = grown;
                scratch_capacity = capacity;
            }
            Py_ssize_t gathered = 0;
            for (Py_ssize_t p = 0; p < probes; p++) {
                Py_ssize_t size = (Py_ssize_t)(probe_stop[p] - probe_start[p]);
                memcpy(scratch + gathered, table_postings + probe_start[p], (size_t)size * 4);
                gathered += size;
            }
            for (Py_ssize_t k = 0; k < gathered && !failed; k++) {
                if (k + PREFETCH_AHEAD < gathered)
                    __builtin_prefetch(hashes + (size_t)scratch[k + PREFETCH_AHEAD] * HASH_BYTES);
                uint32_t slot = scratch[k];
                if (slot >= (uint64_t)n) {
                    failed = 2;
                    break;
                }
                const uint8_t *row = hashes + (size_t)slot * HASH_BYTES;
                int distance = distance_to(q, row);
                if (distance > radius || dead[slot]) continue;
                if (!first_table(query, row, table, tables)) continue;
                if (results_push(&res, (uint32_t)qi, slot, (uint16_t)distance)) failed = 1;
            }
        }
    }
    Py_END_ALLOW_THREADS
    free(scratch);
    free(probe_start);
    if (failed == 2) {
        PyErr_SetString(PyExc_ValueError, "the index is damaged: a bucket points outside it");
        goto done;
    }
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    out = results_to_tuple(&res);
done:
    results_free(&res);
    PyBuffer_Release(&b.queries);
    PyBuffer_Release(&b.hashes);
    PyBuffer_Release(&b.offsets);
    PyBuffer_Release(&b.postings);
    PyBuffer_Release(&b.dead);
    PyBuffer_Release(&b.tables);
    PyBuffer_Release(&b.masks);
    return out;
}

/* build(hashes, start, bits): one table by counting sort, linear time.
 * Returns (offsets: (2**bits + 1) uint32 bytes, postings: N uint32 bytes). */
static PyObject *mih_build(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer hashes;
    int start, bits;
    if (!PyArg_ParseTuple(args, "y*ii", &hashes, &start, &bits)) return NULL;
    PyObject *offsets_obj = NULL, *postings_obj = NULL, *out = NULL;
    Py_ssize_t n = hashes.len / HASH_BYTES;
    if (hashes.len % HASH_BYTES || bits < 1 || bits > 24 || start < 0 ||
        start + bits > HASH_BYTES * 8 || n >= 0xFFFFFFFFLL) {
        PyErr_SetString(PyExc_ValueError, "bad table parameters");
        goto done;
    }
    size_t buckets = (size_t)1 << bits;
    offsets_obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(buckets + 1) * 4);
    postings_obj = PyBytes_FromStringAndSize(NULL, n * 4);
    uint32_t *keys = malloc((size_t)(n ? n : 1) * 4);
    if (!offsets_obj || !postings_obj || !keys) {
        free(keys);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    uint32_t *offsets = (uint32_t *)PyBytes_AS_STRING(offsets_obj);
    uint32_t *postings = (uint32_t *)PyBytes_AS_STRING(postings_obj);
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *rows = hashes.buf;
    memset(offsets, 0, (buckets + 1) * 4);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t padded[HASH_BYTES + 4];
        pad_row(rows + i * HASH_BYTES, padded);
        keys[i] = key_of(padded, start, bits);
        offsets[keys[i] + 1]++;
    }
    for (size_t k = 1; k <= buckets; k++) offsets[k] += offsets[k - 1];
    /* Place each slot at its bucket's cursor; cursors are then restored from the end. */
    for (Py_ssize_t i = 0; i < n; i++) postings[offsets[keys[i]]++] = (uint32_t)i;
    for (size_t k = buckets; k > 0; k--) offsets[k] = offsets[k - 1];
    offsets[0] = 0;
    Py_END_ALLOW_THREADS
    free(keys);
    out = Py_BuildValue("(OO)", offsets_obj, postings_obj);
done:
    Py_XDECREF(offsets_obj);
    Py_XDECREF(postings_obj);
    PyBuffer_Release(&hashes);
    return out;
}

/* scan(queries, hashes, dead, radius): brute force, for the small unindexed delta segment.
 * Same return shape as search. */
static PyObject *mih_scan(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer queries, hashes, dead;
    int radius;
    if (!PyArg_ParseTuple(args, "y*y*y*i", &queries, &hashes, &dead, &radius)) return NULL;
    PyObject *out = NULL;
    results_t res = {0};
    Py_ssize_t n = hashes.len / HASH_BYTES, nq = queries.len / HASH_BYTES;
    if (dead.len != n || queries.len % HASH_BYTES || hashes.len % HASH_BYTES) {
        PyErr_SetString(PyExc_ValueError, "scan buffers have inconsistent sizes");
        goto done;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *rows = hashes.buf;
    const uint8_t *is_dead = dead.buf;
    for (Py_ssize_t qi = 0; qi < nq && !failed; qi++) {
        uint64_t q[4];
        load_words((const uint8_t *)queries.buf + qi * HASH_BYTES, q);
        for (Py_ssize_t slot = 0; slot < n; slot++) {
            int distance = distance_to(q, rows + slot * HASH_BYTES);
            if (distance <= radius && !is_dead[slot] &&
                results_push(&res, (uint32_t)qi, (uint32_t)slot, (uint16_t)distance)) {
                failed = 1;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    out = results_to_tuple(&res);
done:
    results_free(&res);
    PyBuffer_Release(&queries);
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&dead);
    return out;
}

static PyMethodDef methods[] = {
    {"search", mih_search, METH_VARARGS, "Multi-index-hashing range search (see module doc)."},
    {"scan", mih_scan, METH_VARARGS, "Brute-force range search over a small segment."},
    {"build", mih_build, METH_VARARGS, "One table's CSR offsets and postings, by counting sort."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mihcore",
    "Candidate verification for Haven's exact multi-index hashing index.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mihcore(void) { return PyModule_Create(&module); }
