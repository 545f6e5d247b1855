package org.epoll4j.examples.resp;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Everything the reactors share: the databases, pub/sub and blocked clients, the settings CONFIG SET may change, and
 * the counters INFO reports. One lock guards it all; a reactor takes it once per batch of pipelined requests.
 */
final class Store {
    /** Held while reading or changing anything here. */
    final ReentrantLock lock = new ReentrantLock();
    final Keyspace[] dbs;
    final Config config;
    final PubSub pubsub;
    final Blocking blocking;
    final long startedAt = System.currentTimeMillis();
    final AtomicLong clientIds = new AtomicLong();
    /** Sessions open (under the lock). */
    final java.util.LinkedHashMap<Long, Session> clients = new java.util.LinkedHashMap<>();

    /** Estimated bytes of keys and values (what --maxmemory limits). */
    long used;
    long peakUsed;
    long expiredKeys;
    long evictedKeys;
    long commands;
    long connectionsReceived;
    long hits;
    /** Counts key accesses: each entry keeps the count of its last one, for LRU eviction. */
    long accesses;
    long misses;
    /** Sessions WATCHing keys: while zero, writes skip version bookkeeping beyond the entry's own counter. */
    int watching;

    Store(Config config) {
        this.config = config;
        this.dbs = new Keyspace[config.databases];
        for (int i = 0; i < dbs.length; i++) {
            dbs[i] = new Keyspace(this);
        }
        this.pubsub = new PubSub(this);
        this.blocking = new Blocking(this);
    }

    /** Keys in all databases. */
    long keys() {
        long n = 0;
        for (Keyspace k : dbs) {
            n += k.size();
        }
        return n;
    }

    /** Re-estimates the bytes {@code e} holds after a write and moves the total by the difference. */
    void recharge(Keyspace.Entry e) {
        long now = Sizes.of(e);
        used += now - e.charged;
        e.charged = now;
        if (used > peakUsed) {
            peakUsed = used;
        }
    }

    /**
     * Makes room under --maxmemory before a command that may grow memory: evicts by the policy while over.
     *
     * @return false if memory stays over the limit (the command gets the OOM error)
     */
    boolean makeRoom() {
        long max = config.maxmemory;
        if (max <= 0 || used <= max) {
            return true;
        }
        Config.Policy p = config.policy;
        if (p == Config.Policy.NOEVICTION) {
            return false;
        }
        Keyspace[] nonEmpty = new Keyspace[dbs.length];
        java.util.concurrent.ThreadLocalRandom rnd = java.util.concurrent.ThreadLocalRandom.current();
        int guard = 0;
        while (used > max && guard++ < 100_000) {
            int n = 0;
            for (Keyspace db : dbs) {
                if (db.size() > 0) {
                    nonEmpty[n++] = db;
                }
            }
            if (n == 0) {
                return false;
            }
            Keyspace.Entry victim = null;
            Keyspace victimDb = null;
            // volatile policies may sample keys without a deadline: a few more rounds before giving up
            for (int s = 0; s < config.maxmemorySamples * (p.volatileOnly ? 4 : 1); s++) {
                Keyspace db = nonEmpty[rnd.nextInt(n)];
                Keyspace.Entry e = pick(db, p);
                if (e != null && (victim == null || better(p, e, victim))) {
                    victim = e;
                    victimDb = db;
                }
            }
            if (victim == null) {
                return false;
            }
            victimDb.delete(victim);
            evictedKeys++;
        }
        return used <= max;
    }

    private static Keyspace.Entry pick(Keyspace db, Config.Policy p) {
        Keyspace.Entry e = db.random();
        if (e == null || (p.volatileOnly && e.expireAt == Keyspace.NO_TTL)) {
            return null;
        }
        return e;
    }

    private static boolean better(Config.Policy p, Keyspace.Entry e, Keyspace.Entry than) {
        switch (p) {
            case ALLKEYS_LRU:
            case VOLATILE_LRU:
                return e.lru < than.lru;
            case VOLATILE_TTL:
                return e.expireAt < than.expireAt;
            default:
                return false; // random: the first sample
        }
    }
}
