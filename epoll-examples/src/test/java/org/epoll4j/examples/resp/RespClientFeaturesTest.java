package org.epoll4j.examples.resp;

import org.epoll4j.examples.resp.RespTestSupport.Client;
import org.epoll4j.examples.resp.RespTestSupport.Push;
import org.epoll4j.examples.resp.RespTestSupport.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.epoll4j.examples.resp.RespTestSupport.NIL_ARRAY;
import static org.epoll4j.examples.resp.RespTestSupport.NULL3;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What clients send on connect and what users expect of a Redis: AUTH, SELECT, HELLO 3 and RESP3 replies, CLIENT,
 * INFO, key and type commands, transactions, pub/sub, blocking pops, --maxmemory and active expiry. Replies and error
 * texts are Redis 7.0's.
 */
@Timeout(60)
class RespClientFeaturesTest {
    private static final String WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value";

    private static Map<Object, Object> map(Object... kv) {
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void authAndRequirepass() throws Exception {
        try (Server s = new Server("--requirepass", "s3cret"); Client c = s.connect()) {
            assertEquals("-NOAUTH Authentication required.", c.call("GET", "k"));
            assertEquals("-WRONGPASS invalid username-password pair or user is disabled.", c.call("AUTH", "nope"));
            assertEquals("-NOAUTH Authentication required.", c.call("SET", "k", "v"));
            assertEquals("+OK", c.call("AUTH", "s3cret"));
            assertEquals("+OK", c.call("SET", "k", "v"));
            try (Client d = s.connect()) {
                assertTrue(((String) d.call("HELLO", "3")).startsWith("-NOAUTH HELLO must be called"));
                Object hello = d.call("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app");
                assertEquals(3L, ((Map<?, ?>) hello).get("proto"));
                assertEquals("app", d.call("CLIENT", "GETNAME"));
                assertEquals("v", d.call("GET", "k"));
            }
        }
        try (Server s = new Server(); Client c = s.connect()) {
            assertEquals("-ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?", c.call("AUTH", "x"));
            assertEquals("+OK", c.call("AUTH", "default", "anything"));
        }
    }

    @Test
    void selectHasSixteenDatabases() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            c.call("SET", "k", "zero");
            assertEquals("+OK", c.call("SELECT", "15"));
            assertNull(c.call("GET", "k"));
            c.call("SET", "k", "fifteen");
            assertEquals(1L, c.call("DBSIZE"));
            assertEquals("-ERR DB index is out of range", c.call("SELECT", "16"));
            assertEquals("-ERR value is not an integer or out of range", c.call("SELECT", "x"));
            assertEquals(1L, c.call("MOVE", "k", "3"));
            c.call("SELECT", "0");
            assertEquals("zero", c.call("GET", "k"));
            assertEquals("+OK", c.call("FLUSHDB"));
            assertEquals(0L, c.call("DBSIZE"));
            c.call("SELECT", "3");
            assertEquals("fifteen", c.call("GET", "k"), "FLUSHDB empties only the selected database");
            assertEquals("+OK", c.call("FLUSHALL"));
            assertEquals(0L, c.call("DBSIZE"));
            assertEquals(List.of("databases", "16"), c.call("CONFIG", "GET", "databases"));
        }
        try (Server s = new Server("--databases", "2"); Client c = s.connect()) {
            assertEquals("-ERR DB index is out of range", c.call("SELECT", "2"));
        }
    }

    @Test
    void hello3RepliesInResp3() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            Object hello2 = c.call("HELLO");
            assertTrue(hello2 instanceof List && ((List<?>) hello2).contains("proto"), "RESP2: a flat array");
            assertEquals("-NOPROTO unsupported protocol version", c.call("HELLO", "4"));
            Map<?, ?> hello = (Map<?, ?>) c.call("HELLO", "3");
            assertEquals("redis", hello.get("server"));
            assertEquals(3L, hello.get("proto"));
            assertEquals("standalone", hello.get("mode"));
            assertEquals(hello.get("id"), c.call("CLIENT", "ID"));
            assertSame(NULL3, c.call("GET", "missing"));
            c.call("HSET", "h", "f", "v");
            assertEquals(map("f", "v"), c.call("HGETALL", "h"));
            c.call("SADD", "s", "a", "b");
            assertEquals(Set.of("a", "b"), c.call("SMEMBERS", "s"));
            c.call("ZADD", "z", "1.5", "m");
            assertEquals(1.5, c.call("ZSCORE", "z", "m"));
            assertEquals("10.5", c.call("INCRBYFLOAT", "n", "10.5"), "INCRBYFLOAT stays a bulk string");
            assertEquals(map("maxmemory-policy", "noeviction"), c.call("CONFIG", "GET", "maxmemory-policy"));
            assertSame(NULL3, c.call("LPOP", "nolist", "2"));
            assertTrue(((String) c.call("INFO", "server")).startsWith("# Server\r\nredis_version:"));
            assertEquals("+OK", c.call("SET", "k", "v"));
            c.call("HELLO", "2");
            assertNull(c.call("GET", "missing"));
        }
    }

    @Test
    void clientCommands() throws Exception {
        try (Server s = new Server(); Client c = s.connect(); Client d = s.connect()) {
            long id = (Long) c.call("CLIENT", "ID");
            assertTrue(id > 0 && !Long.valueOf(id).equals(d.call("CLIENT", "ID")));
            assertNull(c.call("CLIENT", "GETNAME"));
            assertEquals("+OK", c.call("CLIENT", "SETNAME", "worker-1"));
            assertEquals("worker-1", c.call("CLIENT", "GETNAME"));
            assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                    c.call("CLIENT", "SETNAME", "a b"));
            assertEquals("+OK", c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py"));
            assertEquals("+OK", c.call("CLIENT", "SETINFO", "lib-ver", "5.0.1"));
            assertEquals("-ERR Unrecognized option 'x'", c.call("CLIENT", "SETINFO", "x", "y"));
            String list = (String) d.call("CLIENT", "LIST");
            assertEquals(2, list.strip().split("\n").length, list);
            assertTrue(list.contains("id=" + id + " ") && list.contains(" name=worker-1 ")
                    && list.contains(" lib-name=redis-py lib-ver=5.0.1"), list);
            String info = (String) c.call("CLIENT", "INFO");
            assertTrue(info.startsWith("id=" + id + " addr=127.0.0.1:") && info.contains(" cmd=client"), info);
        }
    }

    @Test
    void infoSectionsUseRedisFieldNames() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            c.call("SET", "a", "1");
            c.call("SET", "b", "2", "EX", "100");
            c.call("SELECT", "2");
            c.call("SET", "c", "3");
            String info = (String) c.call("INFO");
            for (String f : new String[] {"# Server\r\n", "\r\nredis_version:7.0.15\r\n", "\r\ntcp_port:" + s.port,
                "\r\nuptime_in_seconds:", "# Clients\r\n", "\r\nconnected_clients:1\r\n", "\r\nblocked_clients:0\r\n",
                "# Memory\r\n", "\r\nused_memory:", "\r\nmaxmemory:0\r\n", "\r\nmaxmemory_policy:noeviction\r\n",
                "# Stats\r\n", "\r\ntotal_connections_received:1\r\n", "\r\ntotal_commands_processed:",
                "\r\nexpired_keys:0\r\n", "\r\nevicted_keys:0\r\n", "# Keyspace\r\n",
                "\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n", "\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n"}) {
                assertTrue(info.contains(f), f + " in\n" + info);
            }
            String keyspace = (String) c.call("INFO", "keyspace");
            assertTrue(keyspace.startsWith("# Keyspace\r\n") && !keyspace.contains("# Server"), keyspace);
        }
    }

    @Test
    void keysTypeScanAndExpiry() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            c.call("SET", "user:1", "a");
            c.call("SET", "user:2", "b");
            c.call("SET", "user:10", "c");
            c.call("RPUSH", "list", "x");
            c.call("HSET", "hash", "f", "v");
            c.call("SADD", "set", "m");
            c.call("SET", "h?llo", "literal");
            assertEquals("+string", c.call("TYPE", "user:1"));
            assertEquals("+list", c.call("TYPE", "list"));
            assertEquals("+hash", c.call("TYPE", "hash"));
            assertEquals("+set", c.call("TYPE", "set"));
            assertEquals("+none", c.call("TYPE", "nope"));
            assertEquals(Set.of("user:1", "user:2"), Set.copyOf((List<?>) c.call("KEYS", "user:?")));
            assertEquals(Set.of("user:1", "user:10"), Set.copyOf((List<?>) c.call("KEYS", "user:1*")));
            assertEquals(Set.of("user:1", "user:2"), Set.copyOf((List<?>) c.call("KEYS", "user:[0-9]")));
            assertEquals(Set.of("user:2"), Set.copyOf((List<?>) c.call("KEYS", "user:[^1]*")));
            assertEquals(Set.of("user:1", "user:10"), Set.copyOf((List<?>) c.call("KEYS", "USER:1*")).isEmpty()
                    ? Set.of("user:1", "user:10") : Set.of("case matters"));
            assertEquals(List.of("h?llo"), c.call("KEYS", "h\\?llo"));
            // SCAN with COUNT 2 to the end: every key once, MATCH and TYPE filter
            Set<Object> seen = new LinkedHashSet<>();
            String cursor = "0";
            int rounds = 0;
            do {
                List<?> page = (List<?>) c.call("SCAN", cursor, "COUNT", "2");
                cursor = (String) page.get(0);
                seen.addAll((List<?>) page.get(1));
                rounds++;
            } while (!cursor.equals("0"));
            assertEquals(7, seen.size());
            assertTrue(rounds >= 4, "COUNT bounds a page: " + rounds);
            List<?> matched = (List<?>) ((List<?>) c.call("SCAN", "0", "MATCH", "user:*", "COUNT", "100")).get(1);
            assertEquals(Set.of("user:1", "user:2", "user:10"), Set.copyOf(matched));
            assertEquals(List.of("list"),
                    ((List<?>) c.call("SCAN", "0", "TYPE", "list", "COUNT", "100")).get(1));
            assertEquals(2L, c.call("UNLINK", "user:1", "user:2", "nope"));

            assertEquals(-1L, c.call("PTTL", "user:10"));
            assertEquals(1L, c.call("PEXPIRE", "user:10", "100000"));
            long pttl = (Long) c.call("PTTL", "user:10");
            assertTrue(pttl > 99_000 && pttl <= 100_000, "" + pttl);
            assertEquals(1L, c.call("PERSIST", "user:10"));
            assertEquals(-1L, c.call("TTL", "user:10"));
            long at = System.currentTimeMillis() / 1000 + 500;
            assertEquals(1L, c.call("EXPIREAT", "user:10", String.valueOf(at)));
            assertEquals(at, c.call("EXPIRETIME", "user:10"));
            assertEquals(1L, c.call("PEXPIREAT", "list", String.valueOf(at * 1000)));
            assertEquals(at * 1000, c.call("PEXPIRETIME", "list"));
            assertEquals(1L, c.call("EXPIREAT", "hash", "1"), "a time in the past deletes the key");
            assertEquals(0L, c.call("EXISTS", "hash"));
        }
    }

    @Test
    void stringCommands() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            assertEquals("+OK", c.call("SETEX", "a", "100", "v"));
            assertEquals(100L, c.call("TTL", "a"));
            assertEquals("-ERR invalid expire time in 'setex' command", c.call("SETEX", "a", "0", "v"));
            assertEquals("+OK", c.call("PSETEX", "b", "100000", "v"));
            assertEquals(100L, c.call("TTL", "b"));
            assertEquals(1L, c.call("SETNX", "c", "1"));
            assertEquals(0L, c.call("SETNX", "c", "2"));
            assertEquals("1", c.call("GETDEL", "c"));
            assertEquals(0L, c.call("EXISTS", "c"));
            assertEquals(5L, c.call("APPEND", "d", "hello"));
            assertEquals(11L, c.call("APPEND", "d", " world"));
            assertEquals(11L, c.call("STRLEN", "d"));
            assertEquals("world", c.call("GETRANGE", "d", "-5", "-1"));
            assertEquals(-5L, c.call("DECRBY", "e", "5"));
            assertEquals("3.5", c.call("INCRBYFLOAT", "f", "3.5"));
            assertEquals("5", c.call("INCRBYFLOAT", "f", "1.5"));
            assertEquals("-ERR value is not a valid float", c.call("INCRBYFLOAT", "f", "x"));
            assertEquals("-ERR wrong number of arguments for 'get' command", c.call("GET"));
            c.call("RPUSH", "l", "x");
            assertEquals(WRONGTYPE, c.call("APPEND", "l", "x"));
            assertEquals(WRONGTYPE, c.call("STRLEN", "l"));
        }
    }

    @Test
    void setsHashesAndLists() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            assertEquals(3L, c.call("SADD", "s", "a", "b", "c"));
            assertEquals(1L, c.call("SISMEMBER", "s", "a"));
            assertEquals(1L, c.call("SREM", "s", "a", "zz"));
            assertEquals(2L, c.call("SCARD", "s"));
            assertEquals(Set.of("b", "c"), Set.copyOf((List<?>) c.call("SMEMBERS", "s")));
            assertTrue(Set.of("b", "c").contains((String) c.call("SRANDMEMBER", "s")));
            assertEquals(2, ((List<?>) c.call("SRANDMEMBER", "s", "5")).size());
            assertEquals(5, ((List<?>) c.call("SRANDMEMBER", "s", "-5")).size());
            Object popped = c.call("SPOP", "s");
            assertTrue(Set.of("b", "c").contains((String) popped));
            assertEquals(1, ((List<?>) c.call("SPOP", "s", "10")).size());
            assertEquals(0L, c.call("EXISTS", "s"), "an emptied set is deleted");

            assertEquals(2L, c.call("HSET", "h", "a", "1", "b", "2"));
            assertEquals(List.of("a", "1", "b", "2"), c.call("HGETALL", "h"));
            assertEquals(List.of("a", "b"), c.call("HKEYS", "h"));
            assertEquals(List.of("1", "2"), c.call("HVALS", "h"));
            assertEquals(1L, c.call("HEXISTS", "h", "a"));
            assertEquals(12L, c.call("HINCRBY", "h", "a", "11"));
            assertEquals(java.util.Arrays.asList("12", null), c.call("HMGET", "h", "a", "nope"));
            assertEquals(2L, c.call("HLEN", "h"));
            assertEquals(1L, c.call("HDEL", "h", "a", "nope"));
            assertEquals("-ERR hash value is not an integer", c.call("HINCRBY", "h", "b", "x").equals(
                    "-ERR value is not an integer or out of range") ? "-ERR hash value is not an integer"
                    : "wrong error for a non-integer increment");
            c.call("HSET", "h", "s", "str");
            assertEquals("-ERR hash value is not an integer", c.call("HINCRBY", "h", "s", "1"));

            assertEquals(3L, c.call("RPUSH", "l", "a", "b", "c"));
            assertEquals(4L, c.call("LPUSH", "l", "z"));
            assertEquals("a", c.call("LINDEX", "l", "1"));
            assertEquals("c", c.call("LINDEX", "l", "-1"));
            assertNull(c.call("LINDEX", "l", "10"));
            assertEquals(List.of("z", "a", "b", "c"), c.call("LRANGE", "l", "0", "-1"));
            assertEquals(4L, c.call("LLEN", "l"));
            assertEquals("z", c.call("LPOP", "l"));
            assertEquals("c", c.call("RPOP", "l"));
            assertEquals(WRONGTYPE, c.call("LINDEX", "h", "0"));
            assertEquals(WRONGTYPE, c.call("SMEMBERS", "l"));
            assertEquals(WRONGTYPE, c.call("HGETALL", "l"));
        }
    }

    @Test
    void multiExecDiscardAndWatch() throws Exception {
        try (Server s = new Server(); Client c = s.connect(); Client other = s.connect()) {
            assertEquals("+OK", c.call("MULTI"));
            assertEquals("+QUEUED", c.call("SET", "a", "1"));
            assertEquals("+QUEUED", c.call("INCR", "a"));
            assertEquals("+QUEUED", c.call("LPUSH", "a", "x"));
            assertEquals(List.of("+OK", 2L, WRONGTYPE), c.call("EXEC"));
            assertEquals("-ERR EXEC without MULTI", c.call("EXEC"));
            assertEquals("-ERR DISCARD without MULTI", c.call("DISCARD"));
            c.call("MULTI");
            assertEquals("-ERR MULTI calls can not be nested", c.call("MULTI"));
            c.call("INCR", "a");
            assertEquals("+OK", c.call("DISCARD"));
            assertEquals("2", c.call("GET", "a"));
            c.call("MULTI");
            assertEquals("-ERR wrong number of arguments for 'get' command", c.call("GET"));
            c.call("INCR", "a");
            assertEquals("-EXECABORT Transaction discarded because of previous errors.", c.call("EXEC"));
            assertEquals("2", c.call("GET", "a"));

            assertEquals("+OK", c.call("WATCH", "a"));
            other.call("SET", "a", "changed");
            c.call("MULTI");
            c.call("SET", "a", "mine");
            assertEquals(NIL_ARRAY, c.call("EXEC"), "a watched key changed: EXEC fails");
            assertEquals("changed", c.call("GET", "a"));
            c.call("WATCH", "a");
            other.call("GET", "a");
            c.call("MULTI");
            c.call("SET", "a", "mine");
            assertEquals(List.of("+OK"), c.call("EXEC"), "only reads happened");
            assertEquals("mine", c.call("GET", "a"));
        }
    }

    @Test
    void pubSubInResp2AndResp3() throws Exception {
        try (Server s = new Server("--reactors", "2"); Client sub = s.connect(); Client sub3 = s.connect();
             Client pub = s.connect()) {
            assertEquals(List.of("subscribe", "news", 1L), sub.call("SUBSCRIBE", "news"));
            sub.send(Client.encode("PSUBSCRIBE", "n*"));
            assertEquals(List.of("psubscribe", "n*", 2L), sub.read());
            assertEquals("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                    + "are allowed in this context", sub.call("GET", "x"));
            assertEquals(List.of("pong", ""), sub.call("PING"));
            sub3.call("HELLO", "3");
            Object confirm = sub3.call("SUBSCRIBE", "news");
            assertTrue(confirm instanceof Push, "RESP3: a push");
            assertEquals(List.of("subscribe", "news", 1L), confirm);

            assertEquals(3L, pub.call("PUBLISH", "news", "hello"), "two channel subscribers and one pattern");
            assertEquals(List.of("message", "news", "hello"), sub.read());
            assertEquals(List.of("pmessage", "n*", "news", "hello"), sub.read());
            Object pushed = sub3.read();
            assertTrue(pushed instanceof Push);
            assertEquals(List.of("message", "news", "hello"), pushed);
            assertEquals("+OK", sub3.call("SET", "k", "v"), "RESP3 subscribers may run any command");
            assertEquals(List.of("news"), pub.call("PUBSUB", "CHANNELS"));
            assertEquals(List.of("news", 2L), pub.call("PUBSUB", "NUMSUB", "news"));
            assertEquals(1L, pub.call("PUBSUB", "NUMPAT"));

            assertEquals(List.of("unsubscribe", "news", 1L), sub.call("UNSUBSCRIBE"));
            assertEquals(List.of("punsubscribe", "n*", 0L), sub.call("PUNSUBSCRIBE"));
            assertEquals("+PONG", sub.call("PING"), "no subscription left: a normal client again");
            assertEquals(1L, pub.call("PUBLISH", "news", "again"));
        }
    }

    @Test
    void aSubscriberThatDoesNotReadIsDisconnectedByTheOutputLimit() throws Exception {
        try (Server s = new Server("--reactors", "2", "--pubsub-output-limit", "256kb,0,0");
             Client slow = s.connect(); Client pub = s.connect()) {
            slow.socket.setReceiveBufferSize(4096);
            assertEquals(List.of("subscribe", "feed", 1L), slow.call("SUBSCRIBE", "feed"));
            String payload = "x".repeat(16 * 1024);
            long delivered = 0;
            int sent = 0;
            // at most 64 MB published: far beyond what the kernel's socket buffers and the limit can hold
            while (sent < 4000) {
                ByteArrayOutputStream batch = new ByteArrayOutputStream();
                for (int i = 0; i < 50; i++) {
                    batch.writeBytes(Client.encode("PUBLISH", "feed", payload));
                }
                pub.send(batch.toByteArray());
                long got = 0;
                for (int i = 0; i < 50; i++) {
                    got += (Long) pub.read();
                }
                delivered += got;
                sent += 50;
                if (got == 0) {
                    break; // the subscriber is gone
                }
            }
            assertTrue(sent < 4000, "the subscriber was never disconnected");
            assertTrue(delivered * payload.length() < 64L * 1024 * 1024, "" + delivered);
            String info = (String) pub.call("INFO", "stats");
            assertTrue(info.contains("client_output_buffer_limit_disconnections:1\r\n"), info);
            assertEquals(0L, pub.call("PUBLISH", "feed", "x"));
        }
    }

    @Test
    void aSubscriberOverTheSoftLimitIsDisconnectedOnlyAfterItsSeconds() throws Exception {
        try (Server s = new Server("--pubsub-output-limit", "0,64kb,2"); Client slow = s.connect();
             Client pub = s.connect()) {
            slow.socket.setReceiveBufferSize(4096);
            slow.call("SUBSCRIBE", "feed");
            String payload = "x".repeat(16 * 1024);
            long start = System.nanoTime();
            long gone = 0;
            for (int i = 0; i < 20_000 && gone == 0; i++) {
                if ((Long) pub.call("PUBLISH", "feed", payload) == 0) {
                    gone = System.nanoTime();
                } else if (i > 400) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // over the soft limit: wait it out
                }
            }
            assertTrue(gone != 0, "never disconnected");
            long ms = TimeUnit.NANOSECONDS.toMillis(gone - start);
            assertTrue(ms >= 2000, "disconnected after " + ms + " ms, before the soft limit's 2 s");
        }
    }

    @Test
    void blockingPopsWakeOnPushesFromAnyReactorAndTimeOut() throws Exception {
        try (Server s = new Server("--reactors", "2")) {
            List<Client> waiters = new ArrayList<>();
            try (Client pusher = s.connect()) {
                for (int i = 0; i < 4; i++) { // spread over both reactors
                    Client w = s.connect();
                    waiters.add(w);
                    w.send(Client.encode("BLPOP", "q1", "q2", "0"));
                    w.send(Client.encode("PING")); // pipelined after the BLPOP: answered after it
                    awaitBlocked(pusher, i + 1); // one after the other: first come, first served
                }
                assertEquals(2L, pusher.call("RPUSH", "q2", "a", "b"));
                assertEquals(List.of("q2", "a"), waiters.get(0).read());
                assertEquals("+PONG", waiters.get(0).read());
                assertEquals(List.of("q2", "b"), waiters.get(1).read());
                assertEquals(1L, pusher.call("LPUSH", "q1", "c"));
                assertEquals(List.of("q1", "c"), waiters.get(2).read());
                assertEquals(0L, pusher.call("EXISTS", "q1", "q2"), "the waiters took every element");
                waiters.get(3).close(); // a blocked client that goes away is forgotten
                awaitBlocked(pusher, 0);
                assertEquals(1L, pusher.call("RPUSH", "q1", "kept"));
                assertEquals("kept", pusher.call("LPOP", "q1"));

                long start = System.nanoTime();
                assertEquals(NIL_ARRAY, pusher.call("BRPOP", "empty", "0.2"));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(ms >= 190 && ms < 5000, ms + " ms");
                pusher.call("RPUSH", "ready", "x");
                assertEquals(List.of("ready", "x"), pusher.call("BRPOP", "empty", "ready", "1"));
                assertEquals("-ERR timeout is not a float or out of range", pusher.call("BLPOP", "q", "x"));
                assertEquals("-ERR timeout is negative", pusher.call("BLPOP", "q", "-1"));
                pusher.call("MULTI");
                pusher.call("BLPOP", "empty", "0");
                assertEquals(List.of(NIL_ARRAY), pusher.call("EXEC"), "inside MULTI a blocking pop does not block");
            } finally {
                for (Client w : waiters) {
                    w.close();
                }
            }
        }
    }

    private static void awaitBlocked(Client c, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!((String) c.call("INFO", "clients")).contains("blocked_clients:" + n + "\r\n")) {
            assertTrue(System.nanoTime() < deadline, "never " + n + " blocked clients");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void maxmemoryNoevictionAnswersOom() throws Exception {
        try (Server s = new Server("--maxmemory", "200kb"); Client c = s.connect()) {
            String value = "v".repeat(1000);
            Object last = null;
            int i = 0;
            for (; i < 1000 && !(last instanceof String && ((String) last).startsWith("-")); i++) {
                last = c.call("SET", "k" + i, value);
            }
            assertEquals("-OOM command not allowed when used memory > 'maxmemory'.", last);
            assertTrue(i > 100 && i < 300, "refused after " + i + " keys");
            assertEquals(value, c.call("GET", "k0"), "reads still work");
            assertEquals(1L, c.call("DEL", "k0"), "and deletes");
            assertEquals("+OK", c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"));
            assertEquals("+OK", c.call("SET", "more", value));
        }
    }

    @Test
    void maxmemoryAllkeysLruEvictsTheLeastRecentlyUsed() throws Exception {
        try (Server s = new Server("--maxmemory", "300kb", "--maxmemory-policy", "allkeys-lru");
             Client c = s.connect()) {
            String value = "v".repeat(1000);
            c.call("SET", "hot", value);
            for (int i = 0; i < 2000; i++) {
                assertEquals("+OK", c.call("SET", "k" + i, value));
                if (i % 20 == 0) {
                    c.call("GET", "hot"); // keeps it recently used
                }
            }
            long keys = (Long) c.call("DBSIZE");
            assertTrue(keys > 100 && keys < 400, keys + " keys");
            assertEquals(value, c.call("GET", "hot"), "the key in use survived");
            String info = (String) c.call("INFO", "stats");
            assertTrue(info.matches("(?s).*\r\nevicted_keys:(1[5-9]|[2-9])\\d\\d\r\n.*"), info);
        }
    }

    @Test
    void configSetErrorsAsRedisWordsThem() throws Exception {
        try (Server s = new Server(); Client c = s.connect()) {
            assertEquals("-ERR Unknown option or number of arguments for CONFIG SET - 'nope'",
                    c.call("CONFIG", "SET", "nope", "1"));
            assertEquals("-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a "
                    + "memory value", c.call("CONFIG", "SET", "maxmemory", "lots"));
            assertEquals("-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable "
                    + "config", c.call("CONFIG", "SET", "databases", "4"));
            assertEquals("-ERR wrong number of arguments for 'config|set' command",
                    c.call("CONFIG", "SET", "maxmemory"));
            assertEquals("+OK", c.call("CONFIG", "SET", "maxmemory", "1mb"));
            assertEquals(List.of("maxmemory", "1048576"), c.call("CONFIG", "GET", "maxmemory"));
        }
    }

    @Test
    void activeExpiryRunsWithoutClients() throws Exception {
        try (Server s = new Server()) {
            try (Client c = s.connect()) {
                for (int i = 0; i < 50; i++) {
                    c.call("SET", "t" + i, "v", "PX", "50");
                }
                c.call("SELECT", "5");
                c.call("SET", "other-db", "v", "PX", "50");
                c.call("SET", "keep", "v");
            }
            CompletableFuture<Void> gone = CompletableFuture.runAsync(() -> {
                while (s.resp.store.keys() != 1) { // no client connected: only the timer deletes them
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
            });
            gone.get(20, TimeUnit.SECONDS);
            assertEquals(51, s.resp.store.expiredKeys);
        }
    }
}
