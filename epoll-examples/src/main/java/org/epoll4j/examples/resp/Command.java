package org.epoll4j.examples.resp;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** The commands the server knows, with Redis's arity (n: exactly n words; -n: at least n) and COMMAND flags. */
enum Command {
    PING(-1, "fast"), ECHO(2, "fast"), SET(-3, "write denyoom"), GET(2, "readonly fast"), DEL(-2, "write"),
    EXISTS(-2, "readonly fast"), INCR(2, "write denyoom fast"), DECR(2, "write denyoom fast"),
    INCRBY(3, "write denyoom fast"), MSET(-3, "write denyoom"), MGET(-2, "readonly fast"),
    EXPIRE(-3, "write fast"), TTL(2, "readonly fast"), DBSIZE(1, "readonly fast"),
    LPUSH(-3, "write denyoom fast"), RPUSH(-3, "write denyoom fast"), LPOP(-2, "write fast"), RPOP(-2, "write fast"),
    LRANGE(4, "readonly"), LLEN(2, "readonly fast"), HSET(-4, "write denyoom fast"), HGET(3, "readonly fast"),
    SADD(-3, "write denyoom fast"), SCARD(2, "readonly fast"), FLUSHALL(-1, "write"), CONFIG(-2, "admin"),
    COMMAND(-1, "loading stale"), QUIT(-1, "fast");

    /** The name as Redis reports it (lower case). */
    final String lower;
    final int arity;
    final String[] flags;
    final byte[] nameBytes;

    private static final Map<Bytes, Command> BY_NAME = new HashMap<>();

    static {
        for (Command c : values()) {
            BY_NAME.put(Bytes.wrap(c.nameBytes), c);
        }
    }

    Command(int arity, String flags) {
        this.lower = name().toLowerCase(Locale.ROOT);
        this.arity = arity;
        this.flags = flags.split(" ");
        this.nameBytes = Reply.ascii(lower);
    }

    /** Whether {@code argc} words (the name included) suit this command. */
    boolean arityOk(int argc) {
        return arity >= 0 ? argc == arity : argc >= -arity;
    }

    /** The first key's position (0: none), for COMMAND's reply. */
    int firstKey() {
        switch (this) {
            case PING: case ECHO: case DBSIZE: case FLUSHALL: case CONFIG: case COMMAND: case QUIT:
                return 0;
            default:
                return 1;
        }
    }

    /** The last key's position (-1: the last word), for COMMAND's reply. */
    int lastKey() {
        switch (this) {
            case DEL: case EXISTS: case MGET: case MSET:
                return -1;
            default:
                return firstKey();
        }
    }

    /** The step between keys, for COMMAND's reply. */
    int keyStep() {
        return this == MSET ? 2 : firstKey() == 0 ? 0 : 1;
    }

    /**
     * The command named by {@code name[off, off + len)} in any case, or null.
     *
     * @param lowered scratch of at least 16 bytes to fold the name into
     * @param probe   a probe key to look it up with
     */
    static Command lookup(byte[] name, int off, int len, byte[] lowered, Bytes probe) {
        if (len > lowered.length) {
            return null;
        }
        for (int i = 0; i < len; i++) {
            byte c = name[off + i];
            lowered[i] = c >= 'A' && c <= 'Z' ? (byte) (c + ('a' - 'A')) : c;
        }
        return BY_NAME.get(probe.set(lowered, 0, len));
    }
}
