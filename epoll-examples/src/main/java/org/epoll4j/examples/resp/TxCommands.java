package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.List;

/** Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queued requests run under one hold of the store's lock. */
final class TxCommands {
    private TxCommands() {
    }

    static int run(Command c, Call x, Commands commands) {
        Session s = x.s;
        switch (c) {
            case MULTI:
                if (s.multi != null) {
                    x.error("ERR MULTI calls can not be nested");
                } else {
                    s.multi = new ArrayList<>();
                    s.multiError = false;
                    x.ok();
                }
                break;
            case EXEC:
                if (s.multi == null) {
                    x.error("ERR EXEC without MULTI");
                    break;
                }
                List<Args> queued = s.multi;
                s.multi = null;
                if (s.multiError) {
                    s.multiError = false;
                    unwatch(x);
                    x.error("EXECABORT Transaction discarded because of previous errors.");
                    break;
                }
                if (dirty(x)) {
                    unwatch(x);
                    x.r.nilArray();
                    break;
                }
                unwatch(x);
                x.r.arrayHeader(queued.size());
                Args outer = x.a;
                x.inExec = true;
                try {
                    for (Args q : queued) {
                        x.a = q;
                        commands.runQueued(x);
                    }
                } finally {
                    x.inExec = false;
                    x.a = outer;
                }
                break;
            case DISCARD:
                if (s.multi == null) {
                    x.error("ERR DISCARD without MULTI");
                } else {
                    s.multi = null;
                    s.multiError = false;
                    unwatch(x);
                    x.ok();
                }
                break;
            case WATCH:
                if (s.multi != null) {
                    x.error("ERR WATCH inside MULTI is not allowed");
                    break;
                }
                if (s.watched == null) {
                    s.watched = new ArrayList<>();
                    x.store.watching++;
                }
                for (int i = 1; i < x.a.argc; i++) {
                    Keyspace.Entry e = x.entry(i);
                    s.watched.add(new Session.Watch(s.db, x.key.copy(), e));
                }
                x.ok();
                break;
            case UNWATCH:
                unwatch(x);
                x.ok();
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    /** Forgets the session's watched keys. */
    static void unwatch(Call x) {
        unwatch(x.s, x.store);
    }

    static void unwatch(Session s, Store store) {
        if (s.watched != null) {
            s.watched = null;
            store.watching--;
        }
    }

    /** Whether a watched key changed (written, deleted, expired, flushed) since WATCH. */
    private static boolean dirty(Call x) {
        if (x.s.watched == null) {
            return false;
        }
        for (Session.Watch w : x.s.watched) {
            Keyspace.Entry now = x.store.dbs[w.db].get(w.key, x.now);
            if (now != w.entry || (now != null && now.version != w.version)) {
                return true;
            }
        }
        return false;
    }
}
