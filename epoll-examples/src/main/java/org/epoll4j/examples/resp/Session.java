package org.epoll4j.examples.resp;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's state: its client settings (protocol, database, name, authentication), transaction, watched
 * keys, subscriptions and blocking wait; its parser, and the unparsed bytes of a request that arrived in part. A connection whose
 * requests arrive whole holds no buffer at all; a partial request's buffer grows with the bytes that arrive (never
 * from a declared length) and is dropped when the request completes.
 */
final class Session {
    private static final int MIN_BUFFER = 256;
    private static final int SHRINK_ABOVE = 64 * 1024;

    final RequestParser parser = new RequestParser();
    private final AtomicLong buffered;
    private byte[] buf;
    private int len;
    /** After QUIT or a protocol error: the reply is on its way and the rest of the input is ignored. */
    boolean done;

    final long id;
    /** The handler of the connection's reactor (resumes a client a BLPOP released). */
    RespHandler handler;
    final org.epoll4j.net.Connection connection;
    final long createdAt = System.currentTimeMillis();
    boolean resp3;
    int db;
    boolean authenticated;
    String name = "";
    String libName = "";
    String libVersion = "";
    String lastCommand = "NULL";
    /** CLIENT REPLY: 0 on, 1 off, 2 skip the next command's reply, 3 skipping this command's reply. */
    int replyMode;
    /** Requests queued since MULTI, or null outside a transaction. */
    java.util.List<Args> multi;
    /** A request of the transaction was refused when queued: EXEC answers EXECABORT. */
    boolean multiError;
    /** WATCHed keys: (database, key, entry at WATCH time, its version); null when none. */
    java.util.List<Watch> watched;
    final java.util.Set<Bytes> channels = new java.util.LinkedHashSet<>();
    final java.util.Set<Bytes> patterns = new java.util.LinkedHashSet<>();
    /** The BLPOP/BRPOP this client waits on, or null. */
    Blocking.Waiter waiting;
    /** Pub/sub bytes handed to this connection's reactor by other threads and not written yet. */
    final AtomicLong handedOff = new AtomicLong();
    /** Disconnected by the pub/sub output-buffer limit: no more messages are queued for it. */
    final java.util.concurrent.atomic.AtomicBoolean overLimit = new java.util.concurrent.atomic.AtomicBoolean();
    /** When the queued output went over the pub/sub soft limit (ms), or 0. */
    long softSince;

    /** One WATCHed key. */
    static final class Watch {
        final int db;
        final Bytes key;
        final Keyspace.Entry entry;
        final long version;

        Watch(int db, Bytes key, Keyspace.Entry entry) {
            this.db = db;
            this.key = key;
            this.entry = entry;
            this.version = entry == null ? 0 : entry.version;
        }
    }

    /**
     * @param buffered   the server-wide total of input buffer capacity, kept current by this session
     * @param id         the client id (CLIENT ID)
     * @param connection the connection (replies from other clients' actions: pub/sub, BLPOP)
     */
    Session(AtomicLong buffered, long id, org.epoll4j.net.Connection connection) {
        this.buffered = buffered;
        this.id = id;
        this.connection = connection;
    }

    /** Subscribed channels and patterns. */
    int subscriptions() {
        return channels.size() + patterns.size();
    }

    /** Bytes of a partial request held. */
    int pending() {
        return len;
    }

    /** The held bytes, valid from 0 to {@link #pending()}. */
    byte[] buffer() {
        return buf;
    }

    /** Appends {@code n} bytes from {@code src}, growing the buffer only as far as they and the request need. */
    void append(java.nio.ByteBuffer src) {
        int n = src.remaining();
        ensure((long) len + n);
        src.get(buf, len, n);
        len += n;
    }

    /**
     * Keeps {@code a[start, end)}, the start of a request not complete yet: copied from the reactor's scratch
     * buffer, or moved to the front of this session's own buffer.
     */
    void keep(byte[] a, int start, int end) {
        int rest = end - start;
        if (rest == 0) {
            release();
            return;
        }
        if (a != buf) {
            len = 0;
            ensure(rest);
            System.arraycopy(a, start, buf, 0, rest);
        } else if (start > 0) {
            if (buf.length > SHRINK_ABOVE && rest <= buf.length / 4) {
                byte[] smaller = new byte[Math.max(MIN_BUFFER, rest * 2)];
                System.arraycopy(buf, start, smaller, 0, rest);
                replace(smaller);
            } else {
                System.arraycopy(buf, start, buf, 0, rest);
            }
        }
        len = rest;
    }

    /** Drops the buffer (the connection closed, or nothing partial is left). */
    void release() {
        replace(null);
        len = 0;
    }

    private void ensure(long need) {
        int cap = buf == null ? 0 : buf.length;
        if (need <= cap) {
            return;
        }
        long target = Math.max(need, Math.max(MIN_BUFFER, cap * 2L));
        long expected = parser.expectedLength();
        if (expected > 0) {
            target = Math.min(target, Math.max(expected, need)); // no room past what this request can use
        }
        if (target > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("request buffer over 2 GiB"); // the query buffer limit comes first
        }
        byte[] bigger = new byte[(int) target];
        if (len > 0) {
            System.arraycopy(buf, 0, bigger, 0, len);
        }
        replace(bigger);
    }

    private void replace(byte[] b) {
        int before = buf == null ? 0 : buf.length;
        buf = b;
        int after = b == null ? 0 : b.length;
        if (after != before) {
            buffered.addAndGet(after - before);
        }
    }
}
