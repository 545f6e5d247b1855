package org.epoll4j.examples.resp;

/**
 * Runs requests: looks the command up, checks arity, authentication, the subscriber context, transactions and
 * --maxmemory, then hands the request to the class of its data type. One per reactor (it holds scratch probes); the
 * caller holds the store's lock.
 */
final class Commands {
    private final Store store;
    private final byte[] lowered = new byte[16];
    private final Bytes name = Bytes.probe();
    private long executed;

    Commands(Store store) {
        this.store = store;
    }

    /** Requests run (plain counter: read it after the reactor's thread ended). */
    long executed() {
        return executed;
    }

    /**
     * Runs the request {@code x.a} (at least one word) and appends its reply to {@code x.r}.
     *
     * @return {@link Call#CONTINUE}, {@link Call#CLOSE} (QUIT) or {@link Call#BLOCKED} (BLPOP waits)
     */
    int execute(Call x) {
        executed++;
        store.commands++;
        Args a = x.a;
        Session s = x.s;
        Command c = Command.lookup(a.data, a.offset(0), a.length(0), lowered, name);
        if (c == null) {
            refuse(x, unknown(a));
            return Call.CONTINUE;
        }
        s.lastCommand = c.lower;
        if (!c.arityOk(a.argc)) {
            refuse(x, "ERR wrong number of arguments for '" + c.lower + "' command");
            return Call.CONTINUE;
        }
        if (!s.authenticated && !c.noAuth) {
            if (s.multi != null) {
                s.multiError = true;
            }
            x.r.raw(Reply.NOAUTH);
            return Call.CONTINUE;
        }
        if (s.subscriptions() > 0 && !s.resp3 && !subscriberCommand(c)) {
            x.error("ERR Can't execute '" + c.lower + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                    + "RESET are allowed in this context");
            return Call.CONTINUE;
        }
        if (s.multi != null && c != Command.EXEC && c != Command.DISCARD && c != Command.MULTI
                && c != Command.WATCH && c != Command.QUIT && c != Command.RESET) {
            if (c.denyOom && !store.makeRoom()) {
                s.multiError = true;
                x.r.raw(Reply.OOM);
                return Call.CONTINUE;
            }
            s.multi.add(a.snapshot());
            x.r.raw(Reply.QUEUED);
            return Call.CONTINUE;
        }
        x.push = s.resp3 && c.group == Command.Group.PUBSUB && c != Command.PUBLISH && c != Command.PUBSUB;
        int result = run(c, x);
        if (store.blocking.hasReady() && !x.inExec) {
            store.blocking.serveReady(x.now);
        }
        return result;
    }

    /** Runs one request of an EXEC (already checked when it was queued). */
    void runQueued(Call x) {
        Command c = Command.lookup(x.a.data, x.a.offset(0), x.a.length(0), lowered, name);
        run(c, x);
    }

    private int run(Command c, Call x) {
        if (c.denyOom && !store.makeRoom()) {
            x.r.raw(Reply.OOM);
            return Call.CONTINUE;
        }
        int result;
        try {
            result = dispatch(c, x);
        } catch (OutOfMemoryError heapShort) {
            // the JVM's heap, not --maxmemory, ran out: answer as Redis does rather than lose the connection
            x.r.raw(Reply.OOM);
            return Call.CONTINUE;
        } catch (RuntimeException bug) {
            // a defect in one command must not cost the client its connection (or the reactor its loop)
            x.error("ERR internal error in '" + c.lower + "': " + bug);
            return Call.CONTINUE;
        }
        if (c.write && c.firstKey > 0) {
            touched(c, x);
        }
        return result;
    }

    private int dispatch(Command c, Call x) {
        switch (c.group) {
            case STRING:
                return StringCommands.run(c, x);
            case KEY:
                return KeyCommands.run(c, x);
            case BIT:
                return BitCommands.run(c, x);
            case LIST:
                return ListCommands.run(c, x);
            case HASH:
                return HashCommands.run(c, x);
            case SET:
                return SetCommands.run(c, x);
            case ZSET:
                return ZSetCommands.run(c, x);
            case CONN:
                return ConnCommands.run(c, x);
            case SERVER:
                return ServerCommands.run(c, x);
            case TX:
                return TxCommands.run(c, x, this);
            case PUBSUB:
                return PubSub.run(c, x);
            default:
                throw new AssertionError(c);
        }
    }

    /** After a write: the keys it named get a new version (WATCH) and a new memory estimate. */
    private void touched(Command c, Call x) {
        Args a = x.a;
        int last = Math.min(c.lastKey(a.argc), a.argc - 1);
        for (int i = c.firstKey; i <= last; i += c.keyStep) {
            Keyspace.Entry e = x.db.peek(a.key(x.key, i));
            if (e != null) {
                if (store.watching > 0) {
                    e.version++;
                }
                store.recharge(e);
            }
        }
    }

    private static boolean subscriberCommand(Command c) {
        switch (c) {
            case SUBSCRIBE: case PSUBSCRIBE: case UNSUBSCRIBE: case PUNSUBSCRIBE: case PING: case QUIT: case RESET:
                return true;
            default:
                return false;
        }
    }

    /** An error for a request refused before it ran; inside MULTI it also dooms the transaction. */
    private static void refuse(Call x, String error) {
        if (x.s.multi != null) {
            x.s.multiError = true;
        }
        x.error(error);
    }

    private static String unknown(Args a) {
        // Redis's text: the name and the first arguments, each cut at 128 chars (and, C strings, at a NUL byte)
        StringBuilder args = new StringBuilder();
        for (int i = 1; i < a.argc && args.length() < 128; i++) {
            String arg = ServerCommands.cString(a, i, 128 - args.length());
            args.append('\'').append(arg).append("' ");
        }
        return "ERR unknown command '" + ServerCommands.cString(a, 0, 128) + "', with args beginning with: " + args;
    }
}
