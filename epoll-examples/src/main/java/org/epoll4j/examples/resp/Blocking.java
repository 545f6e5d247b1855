package org.epoll4j.examples.resp;

import org.epoll4j.Reactor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * Clients blocked in BLPOP/BRPOP, by database and key, first come first served. A push (from any client on any
 * reactor, under the store's lock) marks its key ready; after the pushing command the waiters are served in order,
 * each reply handed to the waiter's own reactor. A waiter's timeout is a timer on its reactor.
 */
final class Blocking {
    /** One blocked client. */
    static final class Waiter {
        final Session session;
        final int db;
        final List<Bytes> keys;
        final boolean head;
        /** Served, timed out or gone: skipped wherever it is still queued. */
        boolean done;

        Waiter(Session session, int db, List<Bytes> keys, boolean head) {
            this.session = session;
            this.db = db;
            this.keys = keys;
            this.head = head;
        }
    }

    private final Store store;
    private final List<HashMap<Bytes, ArrayDeque<Waiter>>> byKey = new ArrayList<>();
    private final LinkedHashSet<Long> readyIds = new LinkedHashSet<>();
    private final List<Object[]> ready = new ArrayList<>();
    private int blocked;

    Blocking(Store store) {
        this.store = store;
        for (int i = 0; i < store.config.databases; i++) {
            byKey.add(new HashMap<>());
        }
    }

    /** Clients blocked now (INFO's blocked_clients). */
    int blockedClients() {
        return blocked;
    }

    /** Whether pushes have made keys ready since the last {@link #serveReady}. */
    boolean hasReady() {
        return !ready.isEmpty();
    }

    /** Blocks {@code w}'s client; its timeout (0: none) runs on {@code reactor}. */
    void block(Waiter w, double timeoutSeconds, Reactor reactor) {
        for (Bytes k : w.keys) {
            byKey.get(w.db).computeIfAbsent(k, x -> new ArrayDeque<>()).add(w);
        }
        w.session.waiting = w;
        blocked++;
        if (timeoutSeconds > 0) {
            long ms = Math.max(1, (long) Math.ceil(timeoutSeconds * 1000));
            try {
                reactor.schedule(Duration.ofMillis(ms), () -> timedOut(w));
            } catch (RejectedExecutionException closing) {
                // the reactor is closing: the connection goes with it
            }
        }
    }

    /** A push to {@code key} of database {@code db}: serve its waiters after the command. */
    void signal(int db, Bytes key) {
        ArrayDeque<Waiter> q = byKey.get(db).get(key);
        if (q != null && !q.isEmpty()) {
            ready.add(new Object[] {db, key.copy()});
        }
    }

    /** Serves waiters of the keys made ready, while their lists have elements. Under the lock. */
    void serveReady(long now) {
        while (!ready.isEmpty()) {
            Object[] rk = ready.remove(0);
            int db = (Integer) rk[0];
            Bytes key = (Bytes) rk[1];
            ArrayDeque<Waiter> q = byKey.get(db).get(key);
            Keyspace ks = store.dbs[db];
            while (q != null && !q.isEmpty()) {
                Keyspace.Entry e = ks.get(key, now);
                if (e == null || !(e.value instanceof ByteList)) {
                    break;
                }
                Waiter w = q.poll();
                if (w.done) {
                    continue;
                }
                ByteList list = (ByteList) e.value;
                byte[] v = w.head ? list.pollFirst() : list.pollLast();
                if (list.size() == 0) {
                    ks.delete(e);
                } else {
                    store.recharge(e);
                }
                finish(w);
                Reply r = new Reply();
                r.resp3 = w.session.resp3;
                r.arrayHeader(2);
                r.bulk(key.toArray());
                r.bulk(v);
                release(w, r.take());
            }
            if (q != null && q.isEmpty()) {
                byKey.get(db).remove(key);
            }
        }
    }

    /** The client of {@code w} closed or reset: forget it. Under the lock. */
    void cancel(Waiter w) {
        if (!w.done) {
            finish(w);
        }
    }

    private void timedOut(Waiter w) {
        store.lock.lock();
        try {
            if (w.done) {
                return;
            }
            finish(w);
        } finally {
            store.lock.unlock();
        }
        w.session.handler.resume(w.session, w.session.resp3 ? Reply.ascii("_\r\n") : Reply.NIL_ARRAY);
    }

    private void finish(Waiter w) {
        w.done = true;
        w.session.waiting = null;
        blocked--;
        for (Bytes k : w.keys) {
            ArrayDeque<Waiter> q = byKey.get(w.db).get(k);
            if (q != null) {
                q.remove(w);
                if (q.isEmpty()) {
                    byKey.get(w.db).remove(k);
                }
            }
        }
    }

    private static void release(Waiter w, byte[] reply) {
        Session s = w.session;
        try {
            s.connection.reactor().execute(() -> s.handler.resume(s, reply));
        } catch (RejectedExecutionException closing) {
            // its reactor is closing: so is the connection
        }
    }
}
