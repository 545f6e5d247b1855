package org.epoll4j.examples.resp;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The commands the server knows: Redis's arity (n: exactly n words; -n: at least n), COMMAND flags, key positions
 * (first, last: -1 the last word, -2 the one before it; step) and the class that runs them.
 */
enum Command {
    // connection and server
    PING(-1, "fast", Group.CONN, 0), ECHO(2, "fast", Group.CONN, 0), QUIT(-1, "fast noauth", Group.CONN, 0),
    AUTH(-2, "noauth fast noscript", Group.CONN, 0), HELLO(-1, "noauth fast noscript", Group.CONN, 0),
    SELECT(2, "loading stale fast", Group.CONN, 0), CLIENT(-2, "noscript loading stale", Group.CONN, 0),
    RESET(1, "noauth fast noscript", Group.CONN, 0),
    INFO(-1, "loading stale", Group.SERVER, 0), CONFIG(-2, "admin noscript loading stale", Group.SERVER, 0),
    COMMAND(-1, "loading stale", Group.SERVER, 0), DBSIZE(1, "readonly fast", Group.SERVER, 0),
    FLUSHDB(-1, "write", Group.SERVER, 0), FLUSHALL(-1, "write", Group.SERVER, 0),
    TIME(1, "loading stale fast", Group.SERVER, 0), FUNCTION(-2, "noscript", Group.SERVER, 0),
    LASTSAVE(1, "loading stale fast", Group.SERVER, 0), MEMORY(-2, "readonly", Group.SERVER, 2, 2, 1), SWAPDB(3, "write fast", Group.SERVER, 0),
    // keys
    DEL(-2, "write", Group.KEY, 1, -1, 1), UNLINK(-2, "write fast", Group.KEY, 1, -1, 1),
    EXISTS(-2, "readonly fast", Group.KEY, 1, -1, 1), TOUCH(-2, "readonly fast", Group.KEY, 1, -1, 1),
    TYPE(2, "readonly fast", Group.KEY), EXPIRE(-3, "write fast", Group.KEY), PEXPIRE(-3, "write fast", Group.KEY),
    EXPIREAT(-3, "write fast", Group.KEY), PEXPIREAT(-3, "write fast", Group.KEY), TTL(2, "readonly fast", Group.KEY),
    PTTL(2, "readonly fast", Group.KEY), EXPIRETIME(2, "readonly fast", Group.KEY),
    PEXPIRETIME(2, "readonly fast", Group.KEY), PERSIST(2, "write fast", Group.KEY),
    KEYS(2, "readonly", Group.KEY, 0), SCAN(-2, "readonly", Group.KEY, 0), RANDOMKEY(1, "readonly", Group.KEY, 0),
    RENAME(3, "write", Group.KEY, 1, 2, 1), RENAMENX(3, "write fast", Group.KEY, 1, 2, 1),
    COPY(-3, "write denyoom", Group.KEY, 1, 2, 1), MOVE(3, "write fast", Group.KEY),
    OBJECT(-2, "readonly", Group.KEY, 2, 2, 1),
    // strings
    SET(-3, "write denyoom", Group.STRING), GET(2, "readonly fast", Group.STRING),
    SETNX(3, "write denyoom fast", Group.STRING), SETEX(4, "write denyoom", Group.STRING),
    PSETEX(4, "write denyoom", Group.STRING), GETSET(3, "write denyoom fast", Group.STRING),
    GETDEL(2, "write fast", Group.STRING), GETEX(-2, "write fast", Group.STRING),
    APPEND(3, "write denyoom fast", Group.STRING), STRLEN(2, "readonly fast", Group.STRING),
    GETRANGE(4, "readonly", Group.STRING), SUBSTR(4, "readonly", Group.STRING),
    SETRANGE(4, "write denyoom", Group.STRING),
    INCR(2, "write denyoom fast", Group.STRING), DECR(2, "write denyoom fast", Group.STRING),
    INCRBY(3, "write denyoom fast", Group.STRING), DECRBY(3, "write denyoom fast", Group.STRING),
    INCRBYFLOAT(3, "write denyoom fast", Group.STRING),
    MSET(-3, "write denyoom", Group.STRING, 1, -1, 2), MSETNX(-3, "write denyoom", Group.STRING, 1, -1, 2),
    MGET(-2, "readonly fast", Group.STRING, 1, -1, 1),
    SETBIT(4, "write denyoom", Group.BIT), GETBIT(3, "readonly fast", Group.BIT), BITCOUNT(-2, "readonly", Group.BIT),
    LCS(-3, "readonly", Group.BIT, 1, 2, 1),
    // lists
    LPUSH(-3, "write denyoom fast", Group.LIST), RPUSH(-3, "write denyoom fast", Group.LIST),
    LPUSHX(-3, "write denyoom fast", Group.LIST), RPUSHX(-3, "write denyoom fast", Group.LIST),
    LPOP(-2, "write fast", Group.LIST), RPOP(-2, "write fast", Group.LIST), LRANGE(4, "readonly", Group.LIST),
    LLEN(2, "readonly fast", Group.LIST), LINDEX(3, "readonly", Group.LIST), LSET(4, "write denyoom", Group.LIST),
    BLPOP(-3, "write noscript blocking", Group.LIST, 1, -2, 1),
    BRPOP(-3, "write noscript blocking", Group.LIST, 1, -2, 1),
    // hashes
    HSET(-4, "write denyoom fast", Group.HASH), HMSET(-4, "write denyoom fast", Group.HASH),
    HSETNX(4, "write denyoom fast", Group.HASH), HGET(3, "readonly fast", Group.HASH),
    HMGET(-3, "readonly fast", Group.HASH), HGETALL(2, "readonly", Group.HASH), HDEL(-3, "write fast", Group.HASH),
    HLEN(2, "readonly fast", Group.HASH), HEXISTS(3, "readonly fast", Group.HASH),
    HKEYS(2, "readonly", Group.HASH), HVALS(2, "readonly", Group.HASH),
    HINCRBY(4, "write denyoom fast", Group.HASH), HINCRBYFLOAT(4, "write denyoom fast", Group.HASH),
    HSTRLEN(3, "readonly fast", Group.HASH), HRANDFIELD(-2, "readonly", Group.HASH),
    // sets
    SADD(-3, "write denyoom fast", Group.SET), SREM(-3, "write fast", Group.SET), SCARD(2, "readonly fast", Group.SET),
    SMEMBERS(2, "readonly", Group.SET), SISMEMBER(3, "readonly fast", Group.SET),
    SMISMEMBER(-3, "readonly fast", Group.SET), SPOP(-2, "write fast", Group.SET),
    SRANDMEMBER(-2, "readonly", Group.SET), SMOVE(4, "write fast", Group.SET, 1, 2, 1),
    SINTER(-2, "readonly", Group.SET, 1, -1, 1), SUNION(-2, "readonly", Group.SET, 1, -1, 1),
    SDIFF(-2, "readonly", Group.SET, 1, -1, 1), SINTERSTORE(-3, "write denyoom", Group.SET, 1, -1, 1),
    SUNIONSTORE(-3, "write denyoom", Group.SET, 1, -1, 1), SDIFFSTORE(-3, "write denyoom", Group.SET, 1, -1, 1),
    SINTERCARD(-3, "readonly", Group.SET, 0),
    // sorted sets (the basics)
    ZADD(-4, "write denyoom fast", Group.ZSET), ZINCRBY(4, "write denyoom fast", Group.ZSET),
    ZCARD(2, "readonly fast", Group.ZSET), ZSCORE(3, "readonly fast", Group.ZSET), ZREM(-3, "write fast", Group.ZSET),
    ZPOPMIN(-2, "write fast", Group.ZSET), ZPOPMAX(-2, "write fast", Group.ZSET), ZRANGE(-4, "readonly", Group.ZSET),
    // transactions
    MULTI(1, "noscript loading stale fast", Group.TX, 0), EXEC(1, "noscript loading stale skip_slowlog", Group.TX, 0),
    DISCARD(1, "noscript loading stale fast", Group.TX, 0), WATCH(-2, "noscript loading stale fast", Group.TX, 1, -1, 1),
    UNWATCH(1, "noscript loading stale fast", Group.TX, 0),
    // pub/sub
    SUBSCRIBE(-2, "pubsub noscript loading stale", Group.PUBSUB, 0),
    PSUBSCRIBE(-2, "pubsub noscript loading stale", Group.PUBSUB, 0),
    UNSUBSCRIBE(-1, "pubsub noscript loading stale", Group.PUBSUB, 0),
    PUNSUBSCRIBE(-1, "pubsub noscript loading stale", Group.PUBSUB, 0),
    PUBLISH(3, "pubsub loading stale fast", Group.PUBSUB, 0), PUBSUB(-2, "pubsub loading stale", Group.PUBSUB, 0);

    /** Which class runs a command. */
    enum Group { CONN, SERVER, KEY, STRING, BIT, LIST, HASH, SET, ZSET, TX, PUBSUB }

    /** The name as Redis reports it (lower case). */
    final String lower;
    final int arity;
    final String[] flags;
    final byte[] nameBytes;
    final Group group;
    final int firstKey;
    final int lastKey;
    final int keyStep;
    final boolean write;
    final boolean denyOom;
    final boolean noAuth;

    private static final Map<Bytes, Command> BY_NAME = new HashMap<>();

    static {
        for (Command c : values()) {
            BY_NAME.put(Bytes.wrap(c.nameBytes), c);
        }
    }

    Command(int arity, String flags, Group group) {
        this(arity, flags, group, 1, 1, 1);
    }

    Command(int arity, String flags, Group group, int firstKey) {
        this(arity, flags, group, firstKey, firstKey, firstKey == 0 ? 0 : 1);
    }

    Command(int arity, String flags, Group group, int firstKey, int lastKey, int keyStep) {
        this.lower = name().toLowerCase(Locale.ROOT);
        this.arity = arity;
        this.flags = flags.split(" ");
        this.nameBytes = Reply.ascii(lower);
        this.group = group;
        this.firstKey = firstKey;
        this.lastKey = lastKey;
        this.keyStep = keyStep;
        this.write = flags.contains("write");
        this.denyOom = flags.contains("denyoom");
        this.noAuth = flags.contains("noauth");
    }

    /** Whether {@code argc} words (the name included) suit this command. */
    boolean arityOk(int argc) {
        return arity >= 0 ? argc == arity : argc >= -arity;
    }

    /** The position of the last key in a request of {@code argc} words. */
    int lastKey(int argc) {
        return lastKey >= 0 ? lastKey : argc + lastKey;
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
