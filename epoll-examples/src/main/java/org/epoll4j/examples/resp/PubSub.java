package org.epoll4j.examples.resp;

import org.epoll4j.net.Connection;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

/**
 * Channels and patterns with their subscribers, and message delivery. A message to a subscriber on another reactor
 * is handed to that reactor; a subscriber whose unsent output passes the pub/sub output-buffer limit (Redis's
 * {@code client-output-buffer-limit pubsub}: a hard limit, or the soft limit for longer than its seconds) is
 * disconnected, so a subscriber that does not read cannot make the server hold its messages without bound.
 */
final class PubSub {
    private final Store store;
    private final HashMap<Bytes, LinkedHashSet<Session>> channels = new HashMap<>();
    private final HashMap<Bytes, LinkedHashSet<Session>> patterns = new HashMap<>();
    /** Subscribers disconnected by the output-buffer limit (counted on any reactor, hence atomic). */
    final java.util.concurrent.atomic.AtomicLong limitDisconnects = new java.util.concurrent.atomic.AtomicLong();

    PubSub(Store store) {
        this.store = store;
    }

    int channelCount() {
        return channels.size();
    }

    int patternCount() {
        return patterns.size();
    }

    static int run(Command c, Call x) {
        PubSub p = x.store.pubsub;
        switch (c) {
            case SUBSCRIBE:
            case PSUBSCRIBE:
                p.subscribe(x, c == Command.PSUBSCRIBE);
                break;
            case UNSUBSCRIBE:
            case PUNSUBSCRIBE:
                p.unsubscribe(x, c == Command.PUNSUBSCRIBE);
                break;
            case PUBLISH:
                x.r.integer(p.publish(x, x.a.key(x.key, 1), x.a));
                break;
            case PUBSUB:
                p.pubsub(x);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private void subscribe(Call x, boolean pattern) {
        if (x.s.multi != null) {
            x.error("ERR Command not allowed inside a transaction");
            return;
        }
        HashMap<Bytes, LinkedHashSet<Session>> map = pattern ? patterns : channels;
        java.util.Set<Bytes> mine = pattern ? x.s.patterns : x.s.channels;
        for (int i = 1; i < x.a.argc; i++) {
            Bytes ch = x.a.key(x.key, i).copy();
            if (mine.add(ch)) {
                map.computeIfAbsent(ch, k -> new LinkedHashSet<>()).add(x.s);
            }
            x.r.pushHeader(3);
            x.r.bulk(pattern ? "psubscribe" : "subscribe");
            x.r.bulk(ch.toArray());
            x.r.integer(x.s.subscriptions());
        }
    }

    private void unsubscribe(Call x, boolean pattern) {
        java.util.Set<Bytes> mine = pattern ? x.s.patterns : x.s.channels;
        String kind = pattern ? "punsubscribe" : "unsubscribe";
        List<Bytes> which = new ArrayList<>();
        if (x.a.argc == 1) {
            which.addAll(mine);
            if (which.isEmpty()) {
                x.r.pushHeader(3);
                x.r.bulk(kind);
                x.r.nil();
                x.r.integer(x.s.subscriptions());
                return;
            }
        } else {
            for (int i = 1; i < x.a.argc; i++) {
                which.add(x.a.key(x.key, i).copy());
            }
        }
        for (Bytes ch : which) {
            drop(x.s, ch, pattern);
            x.r.pushHeader(3);
            x.r.bulk(kind);
            x.r.bulk(ch.toArray());
            x.r.integer(x.s.subscriptions());
        }
    }

    private void drop(Session s, Bytes ch, boolean pattern) {
        java.util.Set<Bytes> mine = pattern ? s.patterns : s.channels;
        if (mine.remove(ch)) {
            HashMap<Bytes, LinkedHashSet<Session>> map = pattern ? patterns : channels;
            LinkedHashSet<Session> subs = map.get(ch);
            if (subs != null) {
                subs.remove(s);
                if (subs.isEmpty()) {
                    map.remove(ch);
                }
            }
        }
    }

    /** Forgets every subscription of {@code s} (it closed, or RESET). Under the lock. */
    void dropAll(Session s) {
        for (Bytes ch : new ArrayList<>(s.channels)) {
            drop(s, ch, false);
        }
        for (Bytes p : new ArrayList<>(s.patterns)) {
            drop(s, p, true);
        }
    }

    /** Sends argument 2 of {@code a} to the subscribers of {@code channel}; returns how many got it. */
    private int publish(Call x, Bytes channel, Args a) {
        byte[] ch = channel.toArray();
        byte[] msg = a.copy(2);
        int n = 0;
        byte[][] plain = new byte[2][];
        LinkedHashSet<Session> subs = channels.get(channel);
        if (subs != null) {
            for (Session s : subs) {
                int v = s.resp3 ? 1 : 0;
                if (plain[v] == null) {
                    plain[v] = encode(s.resp3, null, ch, msg);
                }
                deliver(x, s, plain[v]);
                n++;
            }
        }
        for (Map.Entry<Bytes, LinkedHashSet<Session>> p : patterns.entrySet()) {
            byte[] pat = p.getKey().toArray();
            if (!Glob.matches(pat, 0, pat.length, ch, 0, ch.length, false)) {
                continue;
            }
            byte[][] forPattern = new byte[2][];
            for (Session s : p.getValue()) {
                int v = s.resp3 ? 1 : 0;
                if (forPattern[v] == null) {
                    forPattern[v] = encode(s.resp3, pat, ch, msg);
                }
                deliver(x, s, forPattern[v]);
                n++;
            }
        }
        return n;
    }

    private static byte[] encode(boolean resp3, byte[] pattern, byte[] channel, byte[] msg) {
        Reply r = new Reply();
        r.resp3 = resp3;
        r.pushHeader(pattern == null ? 3 : 4);
        r.bulk(pattern == null ? "message" : "pmessage");
        if (pattern != null) {
            r.bulk(pattern);
        }
        r.bulk(channel);
        r.bulk(msg);
        return r.take();
    }

    private void deliver(Call x, Session s, byte[] msg) {
        if (s.overLimit.get()) {
            return; // disconnected, its subscriptions not dropped yet (onClose does that on its reactor)
        }
        if (s == x.s) {
            x.r.raw(msg); // our own reply buffer: keeps the order with this batch's other replies
            return;
        }
        Connection c = s.connection;
        if (c.reactor().inEventLoop()) {
            c.write(msg);
            check(s);
            return;
        }
        long handed = s.handedOff.addAndGet(msg.length);
        long hard = store.config.pubsubHard;
        if (hard > 0 && handed + c.queuedBytes() > hard) {
            s.handedOff.addAndGet(-msg.length);
            overLimit(s);
            return;
        }
        try {
            c.reactor().execute(() -> {
                s.handedOff.addAndGet(-msg.length);
                if (c.isOpen()) {
                    c.write(msg);
                    check(s);
                }
            });
        } catch (RejectedExecutionException closing) {
            s.handedOff.addAndGet(-msg.length);
        }
    }

    /** On the subscriber's reactor: disconnects it if its output is over the limits. */
    private void check(Session s) {
        Connection c = s.connection;
        long queued = c.queuedBytes() + s.handedOff.get();
        long hard = store.config.pubsubHard;
        long soft = store.config.pubsubSoft;
        if (hard > 0 && queued > hard) {
            overLimit(s);
        } else if (soft > 0 && queued > soft) {
            long now = System.currentTimeMillis();
            if (s.softSince == 0) {
                s.softSince = now;
            } else if (now - s.softSince >= store.config.pubsubSoftSeconds * 1000) {
                overLimit(s);
            }
        } else {
            s.softSince = 0;
        }
    }

    private void overLimit(Session s) {
        if (!s.overLimit.compareAndSet(false, true)) {
            return;
        }
        limitDisconnects.incrementAndGet();
        s.connection.abort(); // drops what is queued, as Redis frees the client; onClose drops its subscriptions
    }

    private void pubsub(Call x) {
        Args a = x.a;
        if (a.is(1, "channels") && a.argc <= 3) {
            List<Bytes> found = new ArrayList<>();
            for (Bytes ch : channels.keySet()) {
                byte[] b = ch.toArray();
                if (a.argc == 2 || Glob.matches(a.data, a.offset(2), a.length(2), b, 0, b.length, false)) {
                    found.add(ch);
                }
            }
            x.r.arrayHeader(found.size());
            for (Bytes ch : found) {
                x.r.bulk(ch.toArray());
            }
        } else if (a.is(1, "numsub")) {
            x.r.mapHeader(a.argc - 2);
            for (int i = 2; i < a.argc; i++) {
                LinkedHashSet<Session> subs = channels.get(a.key(x.key, i));
                x.r.bulk(a.copy(i));
                x.r.integer(subs == null ? 0 : subs.size());
            }
        } else if (a.is(1, "numpat") && a.argc == 2) {
            x.r.integer(patterns.size());
        } else if (a.is(1, "shardchannels") || a.is(1, "shardnumsub")) {
            x.r.raw(Reply.EMPTY_ARRAY);
        } else {
            x.error("ERR unknown subcommand or wrong number of arguments for '" + a.text(1)
                    + "'. Try PUBSUB HELP.");
        }
    }
}
