package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongConsumer;

/**
 * One database: its keys and their values. Callers hold the {@link Store}'s lock. Values are {@code byte[]}
 * (strings), {@link ByteList} (lists), {@link ByteHash} (hashes) or {@link ByteSet} (sets).
 *
 * <p>Besides the hash map, the entries sit in a dense array (a deletion moves the last one into its slot): a random
 * key (RANDOMKEY, eviction sampling) costs O(1), and SCAN walks the array from the end down, so a key present for
 * the whole scan is returned even while others are added or deleted.
 *
 * <p>Expiry is lazy (a lookup of an expired key deletes it) plus a bounded sweep ({@link #sweep}) from a timer. Keys
 * with a time to live also sit in a min-heap by deadline; a heap node is stale once its key was deleted, replaced or
 * given another deadline, and is skipped. Times are milliseconds of a monotonic clock, so TTLs ignore wall-clock
 * jumps.
 */
final class Keyspace {
    /** {@link Entry#expireAt} of a key without a time to live. */
    static final long NO_TTL = 0;

    private static final long ORIGIN = System.nanoTime();

    /** A key's value and deadline; replaced in place when a string key is overwritten. */
    static final class Entry {
        final Bytes key;
        Object value;
        long expireAt = NO_TTL;
        /** The {@link #now()} of the last access (OBJECT IDLETIME). */
        long access;
        /** The store's access counter at the last access: LRU eviction's order (finer than milliseconds). */
        long lru;
        /** Bumped by every write to the key (WATCH). */
        long version;
        /** The bytes {@link Store#used} counts for this entry. */
        long charged;
        int index;

        Entry(Bytes key, Object value) {
            this.key = key;
            this.value = value;
        }
    }

    private static final class Expiry {
        final long at;
        final Entry entry;

        Expiry(long at, Entry entry) {
            this.at = at;
            this.entry = entry;
        }

        boolean isCurrent(HashMap<Bytes, Entry> map) {
            return entry.expireAt == at && map.get(entry.key) == entry;
        }
    }

    private final Store store;
    private final HashMap<Bytes, Entry> map = new HashMap<>();
    private Entry[] dense = new Entry[16];
    private int size;
    private int volatileKeys;
    private PriorityQueue<Expiry> deadlines = new PriorityQueue<>((x, y) -> Long.compare(x.at, y.at));
    private long expired;
    /** Told of every new deadline (the sweeper's timer may have to come sooner). */
    LongConsumer onDeadline = at -> { };

    Keyspace(Store store) {
        this.store = store;
    }

    /** Milliseconds on a monotonic clock, always at least 1 (0 is {@link #NO_TTL}). */
    static long now() {
        return (System.nanoTime() - ORIGIN) / 1_000_000 + 1;
    }

    /**
     * Unix milliseconds minus {@link #now()}, taken once: a fixed offset makes {@code EXPIREAT} then
     * {@code EXPIRETIME} give back the same instant (reading both clocks on each conversion was off by 1 ms whenever
     * they ticked at different moments). Wall-clock steps after start are not followed, as a monotonic expiry wants.
     */
    private static final long UNIX_OFFSET = System.currentTimeMillis() - now();

    /** {@code monotonic}, a {@link #now()} value, as Unix time in milliseconds. */
    static long toUnixMs(long monotonic) {
        return monotonic + UNIX_OFFSET;
    }

    /** Unix time in milliseconds as a {@link #now()} value (at least 1: in the past means expired). */
    static long fromUnixMs(long unixMs) {
        return Math.max(1, unixMs - UNIX_OFFSET);
    }

    /** The live entry of {@code key}, or null; deletes it if it has expired. */
    Entry get(Bytes key, long now) {
        Entry e = map.get(key);
        if (e != null && e.expireAt != NO_TTL && e.expireAt <= now) {
            delete(e);
            expired++;
            store.expiredKeys++;
            return null;
        }
        if (e != null) {
            e.access = now;
            e.lru = ++store.accesses;
        }
        return e;
    }

    /** The entry of {@code key} without deleting it if expired, or null (SCAN, eviction). */
    Entry peek(Bytes key) {
        return map.get(key);
    }

    /** Sets {@code key} (a probe is copied) to {@code value} without a time to live; returns its entry. */
    Entry put(Bytes key, Object value) {
        Entry e = map.get(key);
        if (e == null) {
            e = new Entry(key.copy(), value);
            e.lru = ++store.accesses;
            add(e);
        } else {
            e.value = value;
            setNoTtl(e);
            e.version++;
        }
        return e;
    }

    /** Adds {@code e} (its key owned, not present yet). */
    void add(Entry e) {
        map.put(e.key, e);
        if (size == dense.length) {
            dense = Arrays.copyOf(dense, size * 2);
        }
        e.index = size;
        dense[size++] = e;
        if (e.expireAt != NO_TTL) {
            volatileKeys++;
            deadlines.add(new Expiry(e.expireAt, e));
            onDeadline.accept(e.expireAt);
        }
    }

    /** Deletes {@code key}; true if it existed and had not expired. */
    boolean remove(Bytes key, long now) {
        Entry e = get(key, now);
        if (e == null) {
            return false;
        }
        delete(e);
        return true;
    }

    /** Deletes a present entry. */
    void delete(Entry e) {
        map.remove(e.key);
        int i = e.index;
        Entry last = dense[--size];
        dense[i] = last;
        last.index = i;
        dense[size] = null;
        if (e.expireAt != NO_TTL) {
            volatileKeys--;
        }
        e.version++;
        store.used -= e.charged;
        e.charged = 0;
    }

    /** Gives {@code e} the deadline {@code at} (ms, {@link #now()}'s clock). */
    void expireAt(Entry e, long at) {
        if (e.expireAt == NO_TTL) {
            volatileKeys++;
        }
        e.expireAt = at;
        e.version++;
        deadlines.add(new Expiry(at, e));
        onDeadline.accept(at);
        if (deadlines.size() > 2 * size + 1024) {
            compact();
        }
    }

    /** Removes {@code e}'s time to live. */
    void setNoTtl(Entry e) {
        if (e.expireAt != NO_TTL) {
            volatileKeys--;
            e.expireAt = NO_TTL;
        }
    }

    /** Drops stale heap nodes: amortised over the at least size + 1024 additions since the last one. */
    private void compact() {
        List<Expiry> live = new ArrayList<>();
        for (Expiry x : deadlines) {
            if (x.isCurrent(map)) {
                live.add(x);
            }
        }
        PriorityQueue<Expiry> q = new PriorityQueue<>(Math.max(16, live.size() * 2), deadlines.comparator());
        q.addAll(live);
        deadlines = q;
    }

    /**
     * Deletes up to {@code budget} expired keys, earliest deadline first.
     *
     * @return true if the budget ran out before every expired key was deleted
     */
    boolean sweep(long now, int budget) {
        Expiry x;
        while ((x = deadlines.peek()) != null && x.at <= now) {
            if (budget-- == 0) {
                return true;
            }
            deadlines.poll();
            if (x.isCurrent(map)) {
                delete(x.entry);
                expired++;
                store.expiredKeys++;
            }
        }
        return false;
    }

    /** The earliest deadline in the heap (possibly stale), or {@link #NO_TTL}. */
    long nextDeadline() {
        Expiry x = deadlines.peek();
        return x == null ? NO_TTL : x.at;
    }

    /** Keys, counting expired ones not yet deleted (as Redis's DBSIZE does). */
    int size() {
        return size;
    }

    /** Keys with a time to live. */
    int volatileCount() {
        return volatileKeys;
    }

    /** The entry at {@code i} of the dense array (0 to size - 1). */
    Entry at(int i) {
        return dense[i];
    }

    /** A random entry, or null if empty. */
    Entry random() {
        return size == 0 ? null : dense[ThreadLocalRandom.current().nextInt(size)];
    }

    /** Deletes every key. */
    void clear() {
        for (int i = 0; i < size; i++) {
            dense[i].version++;
            store.used -= dense[i].charged;
        }
        map.clear();
        dense = new Entry[16];
        size = 0;
        volatileKeys = 0;
        deadlines = new PriorityQueue<>(deadlines.comparator());
    }

    /** Keys deleted because they expired (lazily or by the sweep). */
    long expiredCount() {
        return expired;
    }

    /** Nodes in the deadline heap (tests: the sweep bounds it). */
    int deadlineCount() {
        return deadlines.size();
    }
}
