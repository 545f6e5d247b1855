package org.epoll4j.examples.resp;

/**
 * The request being run and everything a command needs: its arguments, the reply being built, the clock reading of
 * the batch, the client's session and database, and scratch probes. One per reactor, re-pointed per request.
 */
final class Call {
    static final int CONTINUE = 0;
    static final int CLOSE = 1;
    static final int BLOCKED = 2;

    final Store store;
    final Bytes key = Bytes.probe();
    final Bytes field = Bytes.probe();
    final IndexRange range = new IndexRange();
    Args a;
    Reply r;
    long now;
    Session s;
    Keyspace db;
    /** Running the requests of an EXEC: blocking commands do not block, blocked clients are served after. */
    boolean inExec;
    /** The request's replies are RESP3 pushes (subscription changes), which CLIENT REPLY OFF does not silence. */
    boolean push;

    Call(Store store) {
        this.store = store;
    }

    /** The live entry of the key at argument {@code i}, or null ({@link #key} left pointing at it). */
    Keyspace.Entry entry(int i) {
        return db.get(a.key(key, i), now);
    }

    /** The value of the key at argument {@code i}, or null. */
    Object value(int i) {
        Keyspace.Entry e = entry(i);
        return e == null ? null : e.value;
    }

    void wrongArity(String name) {
        r.error("ERR wrong number of arguments for '" + name + "' command");
    }

    void error(String text) {
        r.error(text);
    }

    void wrongType() {
        r.raw(Reply.WRONGTYPE);
    }

    void notInteger() {
        r.raw(Reply.NOT_INTEGER);
    }

    void syntax() {
        r.raw(Reply.SYNTAX);
    }

    void ok() {
        r.raw(Reply.OK);
    }

    /** Argument {@code i} as a long, or null after replying "not an integer". */
    boolean longArg(int i) {
        if (!a.isLong(i)) {
            notInteger();
            return false;
        }
        return true;
    }
}
