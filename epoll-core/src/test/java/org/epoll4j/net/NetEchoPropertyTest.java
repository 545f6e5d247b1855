package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.epoll4j.net.NetTestKit.*;
import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Random byte streams, written in random chunks over many connections at once, come back from the echo server
 * byte-exact, under LEVEL and EDGE triggering. Clients are blocking SocketChannels, one writer and one reader thread
 * per connection; each writer half-closes when done and the reader reads to EOF, so extra bytes would show too.
 */
@ExtendWith(FdLeakCheck.class)
@ExtendWith(ThreadLeakCheck.class)
class NetEchoPropertyTest {
    private static final int MAX_CHUNK = 70_000;

    private static final int EXAMPLES = 50;
    /** Each shrink step runs a real echo of up to 20 connections; a hang costs {@code WAIT_SECONDS} per step. */
    private static final int SHRINK_CYCLES = 200;

    /** One list of write sizes per connection. */
    static Gen<List<List<Integer>>> chunkings() {
        return lists().of(lists().of(integers().between(1, MAX_CHUNK)).ofSizeBetween(1, 6)).ofSizeBetween(1, 20);
    }

    /**
     * Server settings that change the code paths: reads per event, how soon the echo pauses reading, how much each
     * read asks for, and whether writes wait for the end of the batch.
     */
    static Gen<ConnectionConfig> configs() {
        Gen<Integer> highs = Generate.pick(List.of(1024, 64 * 1024, 1 << 20));
        Gen<Integer> readSizes = Generate.pick(List.of(97, 1000, 16 * 1024, 64 * 1024));
        Gen<Boolean> batched = Generate.booleans();
        return integers().between(1, 16).zip(highs, readSizes, batched, (budget, high, size, batch) ->
                ConnectionConfig.defaults().withReadBudget(budget).withWriteWatermarks(high / 2, high)
                        .withReadSize(size).withBatchedWrites(batch));
    }

    @Test
    @Timeout(600)
    void levelEchoIsByteExact() {
        qt(EXAMPLES, SHRINK_CYCLES).forAll(chunkings(), configs(), longs().all())
                .checkAssert((writes, config, seed) -> run(() -> echo(config.withTrigger(TriggerMode.LEVEL), writes,
                        seed)));
    }

    @Test
    @Timeout(600)
    void edgeEchoIsByteExact() {
        qt(EXAMPLES, SHRINK_CYCLES).forAll(chunkings(), configs(), longs().all())
                .checkAssert((writes, config, seed) -> run(() -> echo(config.withTrigger(TriggerMode.EDGE), writes,
                        seed)));
    }

    private static void echo(ConnectionConfig config, List<List<Integer>> writes, long seed) throws Exception {
        TriggerMode mode = config.trigger();
        int n = writes.size();
        ExecutorService pool = Executors.newFixedThreadPool(2 * n);
        List<SocketChannel> channels = new ArrayList<>();
        try (Loop loop = Loop.start("echo-property-" + mode)) {
            Echo echo = new Echo();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(config)
                    .handler(echo)
                    .start();
            List<Future<Long>> readers = new ArrayList<>();
            List<Future<Long>> writers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SocketChannel ch = connect(server.localAddress());
                channels.add(ch);
                long stream = seed + i;
                List<Integer> sizes = writes.get(i);
                writers.add(pool.submit(() -> {
                    long pos = 0;
                    for (int size : sizes) {
                        writeFully(ch, bytes(stream, pos, size));
                        pos += size;
                    }
                    ch.shutdownOutput();
                    return pos;
                }));
                readers.add(pool.submit(() -> {
                    // random read sizes too
                    SplittableRandom r = new SplittableRandom(stream * 31);
                    Verifier v = new Verifier(stream, "connection " + stream);
                    ByteBuffer b = ByteBuffer.allocate(MAX_CHUNK);
                    while (true) {
                        b.clear().limit(1 + r.nextInt(MAX_CHUNK));
                        int got = ch.read(b);
                        if (got < 0) {
                            return v.position();
                        }
                        v.check(b.array(), 0, got);
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            for (int i = 0; i < n; i++) {
                long sent = writers.get(i).get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                long received = readers.get(i).get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertEquals(writes.get(i).stream().mapToLong(Integer::longValue).sum(), sent);
                assertEquals(sent, received, "bytes echoed on connection " + i + " (" + config + ")");
            }
            // every server-side connection closed gracefully after the peer's FIN, exactly once
            for (int i = 0; i < n; i++) {
                Closed c = echo.nextClose();
                assertNull(c.cause(), () -> "close cause: " + c.cause());
            }
            loop.barrier();
            echo.assertClosedOnceEach(n);
            assertEquals(List.of(), loop.failures);
            server.close();
        } catch (TimeoutException e) {
            fail("echo of " + n + " connections (" + mode + ") did not finish in " + WAIT_SECONDS + " s", e);
        } finally {
            for (SocketChannel ch : channels) {
                ch.close();
            }
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS), "client threads did not end");
        }
    }
}
