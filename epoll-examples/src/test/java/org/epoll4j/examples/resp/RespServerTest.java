package org.epoll4j.examples.resp;

import org.epoll4j.examples.resp.RespTestSupport.Client;
import org.epoll4j.examples.resp.RespTestSupport.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.epoll4j.examples.resp.RespTestSupport.NIL_ARRAY;
import static org.junit.jupiter.api.Assertions.*;

/** The resp server in-process on an ephemeral port, driven by raw-socket RESP clients. */
@Timeout(60)
class RespServerTest {
    private static final String WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value";
    private static final String NOT_INT = "-ERR value is not an integer or out of range";
    private static final String SYNTAX = "-ERR syntax error";

    private Server server;
    private Client c;

    @BeforeEach
    void start() throws Exception {
        server = new Server();
        c = server.connect();
    }

    @AfterEach
    void stop() throws Exception {
        if (c != null) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static String arity(String name) {
        return "-ERR wrong number of arguments for '" + name + "' command";
    }

    @Test
    void pingEchoAndArity() throws Exception {
        assertEquals("+PONG", c.call("PING"));
        assertEquals("hi", c.call("ping", "hi"));
        assertEquals(arity("ping"), c.call("PING", "a", "b"));
        assertEquals("x y", c.call("ECHO", "x y"));
        assertEquals(arity("echo"), c.call("ECHO"));
        assertEquals(arity("get"), c.call("GET"));
        assertEquals(arity("get"), c.call("get", "a", "b"));
        assertEquals(arity("dbsize"), c.call("DBSIZE", "x"));
        assertEquals("+PONG", c.call("PiNg"), "command names ignore case");
    }

    @Test
    void stringsAndCounters() throws Exception {
        assertNull(c.call("GET", "k"));
        assertEquals("+OK", c.call("SET", "k", "v"));
        assertEquals("v", c.call("GET", "k"));
        assertEquals(2L, c.call("EXISTS", "k", "k", "nope"));
        assertEquals("+OK", c.call("MSET", "a", "1", "b", "2"));
        assertEquals(Arrays.asList("1", "2", null, "v"), c.call("MGET", "a", "b", "nope", "k"));
        assertEquals(arity("mset"), c.call("MSET", "a", "1", "b"));
        assertEquals(2L, c.call("DEL", "a", "b", "nope"));
        assertEquals(0L, c.call("DEL", "a"));

        assertEquals(1L, c.call("INCR", "n"));
        assertEquals(0L, c.call("DECR", "n"));
        assertEquals(-5L, c.call("INCRBY", "n", "-5"));
        assertEquals("-5", c.call("GET", "n"));
        assertEquals(NOT_INT, c.call("INCRBY", "n", "x"));
        assertEquals(NOT_INT, c.call("INCRBY", "n", "+1"));
        for (String notInt : new String[] {"007", " 7", "+7", "7.0", "", "-0", "9223372036854775808"}) {
            c.call("SET", "q", notInt);
            assertEquals(NOT_INT, c.call("INCR", "q"), notInt);
        }
        c.call("SET", "big", "9223372036854775807");
        assertEquals("-ERR increment or decrement would overflow", c.call("INCR", "big"));
        c.call("SET", "small", "-9223372036854775808");
        assertEquals("-ERR increment or decrement would overflow", c.call("DECR", "small"));
        assertEquals(Long.MIN_VALUE + 1, c.call("INCR", "small"));
        assertEquals(5L, c.call("DBSIZE"), "k n q big small");
        assertEquals("+OK", c.call("FLUSHALL"));
        assertEquals(0L, c.call("DBSIZE"));
        assertEquals("+OK", c.call("FLUSHALL", "ASYNC"));
        assertEquals(SYNTAX, c.call("FLUSHALL", "bogus"));
    }

    @Test
    void setOptions() throws Exception {
        assertEquals("+OK", c.call("SET", "k", "1", "NX"));
        assertNull(c.call("SET", "k", "2", "NX"));
        assertEquals("1", c.call("GET", "k"));
        assertNull(c.call("SET", "missing", "2", "XX"));
        assertEquals(0L, c.call("EXISTS", "missing"));
        assertEquals("+OK", c.call("SET", "k", "3", "xx"));
        assertEquals("3", c.call("SET", "k", "4", "GET"));
        assertEquals("+OK", c.call("SET", "k", "5", "EX", "100"));
        assertEquals(100L, c.call("TTL", "k"));
        assertEquals("+OK", c.call("SET", "k", "6", "KEEPTTL"));
        assertEquals(100L, c.call("TTL", "k"));
        assertEquals("+OK", c.call("SET", "k", "7"));
        assertEquals(-1L, c.call("TTL", "k"), "a plain SET drops the time to live");
        assertEquals("+OK", c.call("SET", "k", "8", "px", "1800"));
        // 1800 ms rounds to 2 s as Redis does, and stays 2 for the next 300 ms (1500 ms flipped to 1 after 1 ms).
        assertEquals(2L, c.call("TTL", "k"), "rounded to the nearest second, as Redis does");

        assertEquals(SYNTAX, c.call("SET", "k", "v", "NX", "XX"));
        assertEquals(SYNTAX, c.call("SET", "k", "v", "EX", "1", "PX", "1"));
        assertEquals(SYNTAX, c.call("SET", "k", "v", "EX"));
        assertEquals(SYNTAX, c.call("SET", "k", "v", "BOGUS"));
        assertEquals(SYNTAX, c.call("SET", "k", "v", "KEEPTTL", "EX", "1"));
        assertEquals(NOT_INT, c.call("SET", "k", "v", "EX", "x"));
        for (String bad : new String[] {"0", "-1", "9223372036854775"}) {
            assertEquals("-ERR invalid expire time in 'set' command", c.call("SET", "k", "v", "EX", bad), bad);
        }
        assertEquals("-ERR invalid expire time in 'set' command",
                c.call("SET", "k", "v", "PX", "9223372036854775807"));
        assertEquals("8", c.call("GET", "k"), "failed SETs change nothing");
        assertEquals(arity("set"), c.call("SET", "k"));
    }

    @Test
    void lists() throws Exception {
        assertEquals(3L, c.call("RPUSH", "l", "c", "d", "e"));
        assertEquals(5L, c.call("LPUSH", "l", "b", "a"));
        assertEquals(List.of("a", "b", "c", "d", "e"), c.call("LRANGE", "l", "0", "-1"), "LPUSH b a: a first");
        assertEquals(List.of("c", "d", "e"), c.call("LRANGE", "l", "-3", "-1"));
        assertEquals(List.of("a", "b", "c", "d", "e"), c.call("LRANGE", "l", "-100", "100"));
        assertEquals(List.of(), c.call("LRANGE", "l", "3", "1"));
        assertEquals(List.of(), c.call("LRANGE", "l", "10", "20"));
        assertEquals(List.of(), c.call("LRANGE", "nope", "0", "-1"));
        assertEquals(NOT_INT, c.call("LRANGE", "l", "x", "1"));
        assertEquals(5L, c.call("LLEN", "l"));
        assertEquals(0L, c.call("LLEN", "nope"));
        assertEquals("a", c.call("LPOP", "l"));
        assertEquals("e", c.call("RPOP", "l"));
        assertEquals(List.of("d", "c"), c.call("RPOP", "l", "2"));
        assertEquals(List.of(), c.call("LPOP", "l", "0"));
        String positive = "-ERR value is out of range, must be positive";
        assertEquals(positive, c.call("LPOP", "l", "-1"));
        assertEquals(positive, c.call("RPOP", "l", "x"));
        assertEquals(arity("lpop"), c.call("LPOP", "l", "1", "2"));
        assertEquals(List.of("b"), c.call("LPOP", "l", "5"));
        assertEquals(0L, c.call("EXISTS", "l"), "an emptied list is deleted");
        assertNull(c.call("LPOP", "l"));
        assertSame(NIL_ARRAY, c.call("LPOP", "l", "2"));
        // the ring buffer wraps and grows with pushes at both ends
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            if (i % 3 == 0) {
                c.call("LPUSH", "w", "v" + i);
                expected.add(0, "v" + i);
            } else {
                c.call("RPUSH", "w", "v" + i);
                expected.add("v" + i);
            }
        }
        assertEquals(expected, c.call("LRANGE", "w", "0", "-1"));
    }

    /** GETEX, SETEX and PSETEX read their expiry as SET does (one helper): units, errors, no change on error. */
    @Test
    void expiryArgumentsOfTheSetFamily() throws Exception {
        assertEquals("+OK", c.call("SET", "g", "v"));
        assertEquals("v", c.call("GETEX", "g", "EX", "100"));
        assertEquals(100L, c.call("TTL", "g"));
        assertEquals("v", c.call("GETEX", "g", "PERSIST"));
        assertEquals(-1L, c.call("TTL", "g"));
        long inAMinute = System.currentTimeMillis() + 60_000;
        assertEquals("v", c.call("GETEX", "g", "pxat", String.valueOf(inAMinute)));
        assertEquals(60L, c.call("TTL", "g"));
        assertEquals("-ERR invalid expire time in 'getex' command", c.call("GETEX", "g", "EX", "0"));
        assertEquals(NOT_INT, c.call("GETEX", "g", "EXAT", "soon"));
        assertEquals(SYNTAX, c.call("GETEX", "g", "EX", "1", "PX", "1"));
        assertEquals(SYNTAX, c.call("GETEX", "g", "PERSIST", "EX", "1"));
        assertEquals(60L, c.call("TTL", "g"), "failed GETEXs change nothing");
        assertEquals("+OK", c.call("SETEX", "s", "30", "v"));
        assertEquals(30L, c.call("TTL", "s"));
        assertEquals("+OK", c.call("PSETEX", "s", "40000", "w"));
        assertEquals(40L, c.call("TTL", "s"));
        assertEquals("-ERR invalid expire time in 'setex' command", c.call("SETEX", "s", "0", "v"));
        assertEquals("-ERR invalid expire time in 'psetex' command", c.call("PSETEX", "s", "-5", "v"));
        assertEquals(NOT_INT, c.call("SETEX", "s", "x", "v"));
        assertEquals("w", c.call("GET", "s"));
    }

    /** LRANGE, ZRANGE and BITCOUNT read their index ranges alike (one helper): negative from the end, clamped. */
    @Test
    void indexRangesOfZrangeAndBitcount() throws Exception {
        assertEquals(3L, c.call("ZADD", "z", "1", "a", "2", "b", "3", "c"));
        assertEquals(List.of("a", "b", "c"), c.call("ZRANGE", "z", "0", "-1"));
        assertEquals(List.of("b", "c"), c.call("ZRANGE", "z", "-2", "-1"));
        assertEquals(List.of("a", "b", "c"), c.call("ZRANGE", "z", "-100", "100"));
        assertEquals(List.of(), c.call("ZRANGE", "z", "2", "1"));
        assertEquals(List.of(), c.call("ZRANGE", "z", "5", "10"));
        assertEquals(List.of(), c.call("ZRANGE", "nope", "0", "-1"));
        assertEquals(List.of("a", "1"), c.call("ZRANGE", "z", "0", "0", "WITHSCORES"));
        assertEquals(NOT_INT, c.call("ZRANGE", "z", "x", "1"));
        assertEquals("+OK", c.call("SET", "bits", "foobar"));
        assertEquals(26L, c.call("BITCOUNT", "bits"));
        assertEquals(4L, c.call("BITCOUNT", "bits", "0", "0"));
        assertEquals(6L, c.call("BITCOUNT", "bits", "1", "1"));
        assertEquals(4L, c.call("BITCOUNT", "bits", "-1", "-1"));
        assertEquals(26L, c.call("BITCOUNT", "bits", "-100", "100"));
        assertEquals(0L, c.call("BITCOUNT", "bits", "5", "2"));
        assertEquals(0L, c.call("BITCOUNT", "nope", "0", "-1"));
        assertEquals(NOT_INT, c.call("BITCOUNT", "bits", "0", "y"));
    }

    @Test
    void hashesAndSets() throws Exception {
        assertEquals(2L, c.call("HSET", "h", "a", "1", "b", "2"));
        assertEquals(0L, c.call("HSET", "h", "a", "3"));
        assertEquals("3", c.call("HGET", "h", "a"));
        assertNull(c.call("HGET", "h", "zz"));
        assertNull(c.call("HGET", "nope", "a"));
        assertEquals(arity("hset"), c.call("HSET", "h", "a"));
        assertEquals(arity("hset"), c.call("HSET", "h", "a", "1", "b"));
        assertEquals(2L, c.call("SADD", "s", "a", "a", "b"));
        assertEquals(1L, c.call("SADD", "s", "b", "c"));
        assertEquals(3L, c.call("SCARD", "s"));
        assertEquals(0L, c.call("SCARD", "nope"));
    }

    @Test
    void wrongTypeErrorsAsRedisGivesThem() throws Exception {
        c.call("SET", "str", "x");
        c.call("LPUSH", "list", "x");
        c.call("HSET", "hash", "f", "v");
        c.call("SADD", "set", "m");
        Object[][] wrong = {{"GET", "list"}, {"INCR", "hash"}, {"DECR", "set"}, {"INCRBY", "list", "1"},
                {"LPUSH", "str", "a"}, {"RPUSH", "hash", "a"}, {"LPOP", "str"}, {"RPOP", "set", "1"},
                {"LRANGE", "str", "0", "1"}, {"LLEN", "hash"}, {"HSET", "list", "f", "v"}, {"HGET", "str", "f"},
                {"SADD", "hash", "m"}, {"SCARD", "list"}, {"SET", "list", "v", "GET"}};
        for (Object[] w : wrong) {
            assertEquals(WRONGTYPE, c.call(w), Arrays.toString(w));
        }
        assertEquals(Arrays.asList("x", null, null, null), c.call("MGET", "str", "list", "hash", "set"));
        assertEquals("+OK", c.call("SET", "list", "now a string"), "SET replaces any type");
        assertEquals("now a string", c.call("GET", "list"));
    }

    @Test
    void expireAndTtl() throws Exception {
        assertEquals(-2L, c.call("TTL", "k"));
        assertEquals(0L, c.call("EXPIRE", "k", "10"));
        c.call("SET", "k", "v");
        assertEquals(-1L, c.call("TTL", "k"));
        assertEquals(NOT_INT, c.call("EXPIRE", "k", "x"));
        assertEquals("-ERR invalid expire time in 'expire' command", c.call("EXPIRE", "k", "9223372036854775807"));
        assertEquals("-ERR Unsupported option BOGUS", c.call("EXPIRE", "k", "10", "BOGUS"));
        assertEquals("-ERR NX and XX, GT or LT options at the same time are not compatible",
                c.call("EXPIRE", "k", "10", "NX", "XX"));
        assertEquals("-ERR GT and LT options at the same time are not compatible",
                c.call("EXPIRE", "k", "10", "GT", "LT"));
        assertEquals(0L, c.call("EXPIRE", "k", "10", "XX"));
        assertEquals(0L, c.call("EXPIRE", "k", "10", "GT"), "no TTL counts as infinite for GT");
        assertEquals(1L, c.call("EXPIRE", "k", "10", "NX"));
        assertEquals(10L, c.call("TTL", "k"));
        assertEquals(0L, c.call("EXPIRE", "k", "20", "NX"));
        assertEquals(0L, c.call("EXPIRE", "k", "5", "GT"));
        assertEquals(1L, c.call("EXPIRE", "k", "20", "GT"));
        assertEquals(1L, c.call("EXPIRE", "k", "15", "LT"));
        assertEquals(15L, c.call("TTL", "k"));
        assertEquals(1L, c.call("EXPIRE", "k", "0"), "a deadline in the past deletes the key");
        assertEquals(0L, c.call("EXISTS", "k"));
        assertEquals(1L, c.call("INCR", "n"));
        c.call("EXPIRE", "n", "100");
        assertEquals(2L, c.call("INCR", "n"));
        assertEquals(100L, c.call("TTL", "n"), "INCR keeps the time to live");
    }

    @Test
    void keysExpireLazilyAndBySweep() throws Exception {
        assertEquals("+OK", c.call("SET", "soon", "v", "PX", "30"));
        assertEquals("+OK", c.call("SET", "later", "v", "EX", "1000"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.call("TTL", "soon").equals(0L)) { // polling the server with a deadline, not a sleep
            assertTrue(System.nanoTime() < deadline, "soon never expired");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertEquals(-2L, c.call("TTL", "soon"));
        assertNull(c.call("GET", "soon"));

        // Keys nobody touches again: only the timer sweep can delete them (DBSIZE does not look at keys).
        int n = 2500; // more than one tick's budget
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            batch.writeBytes(Client.encode("SET", "tmp" + i, "v", "PX", "20"));
        }
        c.send(batch.toByteArray());
        for (int i = 0; i < n; i++) {
            assertEquals("+OK", c.read());
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.call("DBSIZE").equals(1L)) {
            assertTrue(System.nanoTime() < deadline, "sweep left " + c.call("DBSIZE") + " keys");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertEquals("v", c.call("GET", "later"));
        c.close();
        String out = server.stop();
        assertTrue(server.resp.keyspace.expiredCount() >= n + 1, out);
        assertEquals(0, server.resp.keyspace.deadlineCount() - 1, "heap holds only 'later'");
    }

    @Test
    void binarySafeKeysAndValues() throws Exception {
        byte[] all = new byte[256 * 3];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        byte[] key = "k\r\n\0ey\r\n$3\r\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("+OK", c.call("SET", key, all));
        assertArrayEquals(all, ((String) c.call("GET", key)).getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(0L, c.call("EXISTS", "k\r\n\0ey\r\n$3\r"), "keys compare by every byte");
        assertEquals(0L, c.call("EXISTS", "k"));
        assertEquals(1L, c.call("RPUSH", "l", "\0\r\n"));
        assertEquals(List.of("\0\r\n"), c.call("LRANGE", "l", "0", "0"));
        assertEquals(1L, c.call("HSET", "h", "f\0\r\n", "\r\n"));
        assertEquals("\r\n", c.call("HGET", "h", "f\0\r\n"));
        assertNull(c.call("HGET", "h", "f\0"));

        // Large values (over Reply.LARGE) in both directions, sent in small pieces.
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(big);
        System.out.println("binarySafeKeysAndValues: random seed 42");
        byte[] request = Client.encode("SET", "big", big);
        for (int off = 0; off < request.length; off += 100_000) {
            c.send(Arrays.copyOfRange(request, off, Math.min(request.length, off + 100_000)));
        }
        assertEquals("+OK", c.read());
        assertArrayEquals(big, ((String) c.call("GET", "big")).getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("+PONG", c.call("PING"));
    }

    @Test
    void inlineCommands() throws Exception {
        c.send("PING\r\nSET k v\r\n\r\nGET k\n  ECHO   spaced   \r\n");
        assertEquals("+PONG", c.read());
        assertEquals("+OK", c.read());
        assertEquals("v", c.read());
        assertEquals("spaced", c.read());
        c.send("ECHO \"a\\x41\\n\\t\\\\\"\r\nECHO 'b\\'c'\r\nECHO a\"b c\"\r\nSET \"x y\" \"\"\r\nGET \"x y\"\r\n");
        assertEquals("aA\n\t\\", c.read());
        assertEquals("b'c", c.read());
        assertEquals("ab c", c.read()); // a quote may open mid-word
        assertEquals("+OK", c.read());
        assertEquals("", c.read());
        c.send("FOO a b\r\n");
        assertEquals("-ERR unknown command 'FOO', with args beginning with: 'a' 'b' ", c.read());
        c.send("ECHO \"a\"b\r\n");
        assertEquals("-ERR Protocol error: unbalanced quotes in request", c.read());
        assertTrue(c.closedByServer());
    }

    @Test
    void unknownCommandKeepsTheConnection() throws Exception {
        assertEquals("-ERR unknown command 'foo', with args beginning with: 'a  b' 'c' ",
                c.call("foo", "a\r\nb", "c"));
        assertEquals("-ERR unknown command 'DBSI', with args beginning with: ", c.call("DBSI"));
        assertEquals("-ERR unknown command '', with args beginning with: ", c.call(""));
        assertEquals("-ERR unknown command 'foo', with args beginning with: '' ", c.call("foo", "\0x"));
        String x = "x".repeat(60);
        String z = "z".repeat(60);
        // the arguments are cut once they reach 128 chars, as Redis does
        assertEquals("-ERR unknown command 'foo', with args beginning with: '" + x + "' '" + z + "' 'ww' ",
                c.call("foo", x, z, "w".repeat(60), "q"));
        assertEquals("-ERR unknown command '" + "y".repeat(128) + "', with args beginning with: ",
                c.call("y".repeat(200)));
        assertEquals("-ERR unknown subcommand 'FOO'. Try CONFIG HELP.", c.call("CONFIG", "FOO"));
        assertEquals("-ERR unknown subcommand 'FOO'. Try COMMAND HELP.", c.call("COMMAND", "FOO"));
        assertEquals("+PONG", c.call("PING"));
    }

    @Test
    void configCommandAndQuit() throws Exception {
        assertEquals(List.of("save", ""), c.call("CONFIG", "GET", "save"));
        assertEquals(List.of("appendonly", "no"), c.call("CONFIG", "get", "APPENDONLY"));
        assertEquals(List.of("save", "", "appendonly", "no"), c.call("CONFIG", "GET", "save", "appendonly"));
        assertEquals(List.of("save", "", "appendonly", "no"), c.call("CONFIG", "GET", "sa*", "*ppendonl*"));
        assertEquals(List.of(), c.call("CONFIG", "GET", "nope"));
        assertEquals(arity("config|get"), c.call("CONFIG", "GET"));
        assertEquals(arity("config"), c.call("CONFIG"));

        long count = (Long) c.call("COMMAND", "COUNT");
        assertEquals(Command.values().length, count);
        assertEquals(arity("command|count"), c.call("COMMAND", "COUNT", "x"));
        List<?> all = (List<?>) c.call("COMMAND");
        assertEquals(count, all.size());
        List<?> info = (List<?>) ((List<?>) c.call("COMMAND", "INFO", "get", "nope")).get(0);
        assertEquals(List.of("get", 2L, List.of("+readonly", "+fast"), 1L, 1L, 1L, List.of(), List.of(), List.of(),
                List.of()), info);
        assertEquals(Arrays.asList(info, null), c.call("COMMAND", "INFO", "GET", "nope"));
        assertEquals(List.of(), c.call("COMMAND", "DOCS"));
        assertTrue(((List<?>) c.call("COMMAND", "LIST")).contains("lrange"));

        c.send(Client.encode("QUIT"));
        c.send(Client.encode("PING")); // after QUIT: ignored
        assertEquals("+OK", c.read());
        assertTrue(c.closedByServer());
    }

    @Test
    void pipelinedBatchRepliesInOrderWithFewWrites() throws Exception {
        int n = 300;
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            batch.writeBytes(Client.encode("INCR", "ctr"));
            batch.writeBytes(i % 2 == 0 ? "GET ctr\r\n".getBytes(StandardCharsets.ISO_8859_1)
                    : Client.encode("GET", "ctr"));
        }
        byte[] bytes = batch.toByteArray();
        c.send(bytes); // one write: usually one read on the server, at most a few
        for (int i = 1; i <= n; i++) {
            assertEquals((long) i, c.read());
            assertEquals(String.valueOf(i), c.read());
        }
        c.close();
        server.stop();
        assertEquals(2L * n, server.resp.commands());
        // One write per read event: far fewer than one per reply (the batch is a few 64 KiB reads at most).
        long writes = server.resp.writes();
        assertTrue(writes >= 1 && writes <= 1 + bytes.length / 1024, "writes: " + writes + " for " + bytes.length);
    }

    @Test
    void aClientThatDoesNotReadItsRepliesIsNotBufferedWithoutBound() throws Exception {
        byte[] big = new byte[1 << 20];
        new Random(7).nextBytes(big);
        System.out.println("aClientThatDoesNotReadItsRepliesIsNotBufferedWithoutBound: random seed 7");
        assertEquals("+OK", c.call("SET", "big", big));
        int n = 100; // 100 MiB of replies asked for in 1 KiB of requests
        try (Client slow = server.connect()) {
            slow.send("GET big\r\n".repeat(n));
            assertEquals("+PONG", c.call("PING"), "others are served meanwhile");
            for (int i = 0; i < n; i++) {
                assertArrayEquals(big, ((String) slow.read()).getBytes(StandardCharsets.ISO_8859_1), "reply " + i);
            }
            assertEquals("+PONG", slow.call("PING"), "reading resumed once the replies drained");
        }
        c.close();
        server.stop();
        assertTrue(server.resp.maxQueued() < 4 << 20, "queued at most " + server.resp.maxQueued());
    }

    @Test
    void malformedInputGetsAProtocolErrorAndCloseWhileOthersGoOn() throws Exception {
        String[][] cases = {
                {"*1\r\nx4\r\nPING\r\n", "expected '$', got 'x'"},
                {"*1\r\n$-1\r\n", "invalid bulk length"},
                {"*1\r\n$abc\r\n", "invalid bulk length"},
                {"*1\r\n$+4\r\nPING\r\n", "invalid bulk length"},
                {"*1\r\n$1099511627776\r\n", "invalid bulk length"},
                {"*1\r\n$536870913\r\n", "invalid bulk length"},
                {"*1\r\n$2147483648\r\n", "invalid bulk length"},
                {"*abc\r\n", "invalid multibulk length"},
                {"*01\r\n", "invalid multibulk length"},
                {"*1 \r\n", "invalid multibulk length"},
                {"*1\n$4\r\nPING\r\n", "invalid multibulk length"},
                {"*1\rX\r\n", "invalid multibulk length"},
                {"*2147483648\r\n", "invalid multibulk length"},
                {"*1\r\n$4\r\nPINGxx", "expected CRLF after bulk data"},
                {"*2\r\n$3\r\nGET\r\n$1\r\nk\nX", "expected CRLF after bulk data"},
                {"*2\r\n$3\r\nGET\r\n\r\n", "expected '$', got ' '"},
                {"PING \"a\r\n", "unbalanced quotes in request"},
                {"x".repeat(70_000), "too big inline request"},
                {"*" + "1".repeat(70_000), "too big mbulk count string"},
                {"*1\r\n$" + "1".repeat(70_000), "too big bulk count string"},
        };
        try (Client other = server.connect()) {
            assertEquals("+OK", other.call("SET", "k", "v"));
            for (String[] bad : cases) {
                try (Client b = server.connect()) {
                    b.send(bad[0]);
                    assertEquals("-ERR Protocol error: " + bad[1], b.read(), bad[0]);
                    assertTrue(b.closedByServer(), bad[0]);
                }
                assertEquals("v", other.call("GET", "k"), "another connection keeps working");
            }
            // the good requests before a bad one are answered first
            try (Client b = server.connect()) {
                b.send("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-3\r\n*1\r\n$4\r\nPING\r\n");
                assertEquals("+PONG", b.read());
                assertEquals("+PONG", b.read());
                assertEquals("-ERR Protocol error: invalid bulk length", b.read());
                assertTrue(b.closedByServer());
            }
            // empty and negative arrays are skipped, as Redis does
            other.send("*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n");
            assertEquals("+PONG", other.read());
        }
    }

    @Test
    void requestsSplitAtEveryByteAreParsed() throws Exception {
        byte[] req = (new String(Client.encode("SET", "split", "a\r\nb"), StandardCharsets.ISO_8859_1)
                + "GET split\r\n" + new String(Client.encode("GET", "split"), StandardCharsets.ISO_8859_1))
                .getBytes(StandardCharsets.ISO_8859_1);
        for (byte b : req) {
            c.send(new byte[] {b});
        }
        assertEquals("+OK", c.read());
        assertEquals("a\r\nb", c.read());
        assertEquals("a\r\nb", c.read());
        assertEquals(0L, server.resp.bufferedBytes(), "nothing held once every request completed");
    }

    @Test
    void declaredLengthsCostNothingUntilTheBytesArrive() throws Exception {
        assertEquals(0L, server.resp.bufferedBytes());
        // 500 MB declared (under Redis's 512 MB limit), 10 bytes sent
        c.send("*2\r\n$3\r\nSET\r\n$500000000\r\n0123456789");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.resp.bufferedBytes() == 0) { // observing the server: poll with a deadline
            assertTrue(System.nanoTime() < deadline, "the partial request never reached the server");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        assertTrue(server.resp.bufferedBytes() < 4096, "held " + server.resp.bufferedBytes());
        // a million declared arguments cost nothing either: argument slots grow as arguments arrive
        long before = server.resp.bufferedBytes();
        try (Client d = server.connect()) {
            d.send("*1000000\r\n$1\r\na\r\n");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.resp.bufferedBytes() == before) {
                assertTrue(System.nanoTime() < deadline, "the partial array never reached the server");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
            assertTrue(server.resp.bufferedBytes() - before < 4096, "held " + server.resp.bufferedBytes());
        }
        // 1 MB more arrives: the buffer grows with it, not to the declared size
        c.send(new byte[1_000_000]);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.resp.bufferedBytes() < 1_000_000) {
            assertTrue(System.nanoTime() < deadline, "held " + server.resp.bufferedBytes());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        assertTrue(server.resp.bufferedBytes() <= 2_100_000, "held " + server.resp.bufferedBytes());
        c.close();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.resp.bufferedBytes() != 0) {
            assertTrue(System.nanoTime() < deadline, "a closed connection's buffer is released");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    @Test
    void queryBufferLimitClosesTheConnection() throws Exception {
        try (Server small = new Server("--query-buffer-limit", "4096"); Client s = small.connect()) {
            s.send("*2\r\n$3\r\nSET\r\n$100000\r\n");
            s.send(new byte[5000]);
            assertEquals("-ERR Protocol error: request larger than the query buffer limit of 4096 bytes", s.read());
            assertTrue(s.closedByServer());
            try (Client t = small.connect()) {
                assertEquals("+PONG", t.call("PING"));
            }
        }
    }

    @Test
    void sharedKeyspaceAcrossReactors() throws Exception {
        try (Server multi = new Server("--reactors", "2")) {
            int clients = 8;
            int each = 500;
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < clients; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try (Client k = multi.connect()) {
                        ByteArrayOutputStream b = new ByteArrayOutputStream();
                        for (int i = 0; i < each; i++) {
                            b.writeBytes(Client.encode("INCR", "shared"));
                            b.writeBytes(Client.encode("RPUSH", "list", id + ":" + i));
                        }
                        k.send(b.toByteArray());
                        for (int i = 0; i < 2 * each; i++) {
                            assertTrue(k.read() instanceof Long);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join(30_000);
            }
            assertEquals(List.of(), failures);
            try (Client k = multi.connect()) {
                assertEquals(String.valueOf(clients * each), k.call("GET", "shared"));
                assertEquals((long) clients * each, k.call("LLEN", "list"));
            }
            String out = multi.stop();
            assertTrue(out.contains("resp: stopped; " + (clients + 1) + " connections"), out);
        }
    }

    @Test
    void stopPrintsTheSummary() throws Exception {
        c.call("SET", "a", "1");
        c.close();
        String out = server.stop();
        assertTrue(out.matches("(?s)listening on 127\\.0\\.0\\.1:\\d+\\R"
                + "resp: stopped; 1 connections, 1 commands, 0 protocol errors, 1 keys, 0 keyspace lock waits\\R"), out);
    }
}
