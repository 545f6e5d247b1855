package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.epoll4j.net.NetTestKit.*;
import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Reading is paused while any {@link ReadPause} reason holds and resumes when none does: a model (a set of reasons)
 * against a real connection, for random sequences of pauses and resumes (every reason, both triggers), checking after
 * each step both what the connection says and whether a byte the peer sends is delivered.
 */
@Timeout(300)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class ReadPauseTest {
    private static final ReadPause[] REASONS = ReadPause.values();

    /** Counts delivered bytes. */
    private static final class Counting extends Tracking {
        final AtomicLong delivered = new AtomicLong();

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            delivered.addAndGet(data.remaining());
            data.position(data.limit());
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void readingPausedWhileAnyReasonHolds(TriggerMode mode) throws Exception {
        Counting h = new Counting();
        try (Loop loop = Loop.start("read-pause-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = h.nextOpen();
                long[] sent = {0};
                // ops: reason index * 2 + (0 = pause, 1 = resume)
                qt(200, 100).forAll(lists().of(integers().between(0, 2 * REASONS.length - 1)).ofSizeBetween(0, 24))
                        .checkAssert(ops -> run(() -> {
                            Set<ReadPause> model = EnumSet.noneOf(ReadPause.class);
                            for (int op : ops) {
                                ReadPause r = REASONS[op / 2];
                                if (op % 2 == 0) {
                                    c.pauseReading(r);
                                    model.add(r);
                                } else {
                                    c.resumeReading(r);
                                    model.remove(r);
                                }
                                check(loop, ch, h, c, model, sent);
                            }
                            for (ReadPause r : List.copyOf(model)) { // leave it unpaused for the next example
                                c.resumeReading(r);
                                model.remove(r);
                                check(loop, ch, h, c, model, sent);
                            }
                        }));
            }
            h.nextClose();
            server.close();
        }
    }

    /** Every subset of reasons: paused while one is left, delivering what waited exactly when the last goes. */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void everyCombinationResumesOnlyWithTheLastReason(TriggerMode mode) throws Exception {
        Counting h = new Counting();
        try (Loop loop = Loop.start("read-pause-all-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = h.nextOpen();
                long[] sent = {0};
                for (int mask = 1; mask < 1 << REASONS.length; mask++) {
                    Set<ReadPause> model = EnumSet.noneOf(ReadPause.class);
                    for (ReadPause r : REASONS) {
                        if ((mask & r.bit()) != 0) {
                            c.pauseReading(r);
                            model.add(r);
                        }
                    }
                    check(loop, ch, h, c, model, sent);
                    for (ReadPause r : REASONS) {
                        if (model.remove(r)) {
                            c.resumeReading(r);
                            check(loop, ch, h, c, model, sent);
                        }
                    }
                }
                assertEquals(sent[0], h.delivered.get());
            }
            h.nextClose();
            server.close();
        }
    }

    /**
     * The connection reports exactly the model's reasons; a byte the peer sends now is delivered if no reason holds
     * and kept back otherwise (and everything kept back is delivered once none holds).
     */
    private static void check(Loop loop, SocketChannel ch, Counting h, Connection c, Set<ReadPause> model,
                              long[] sent) throws Exception {
        for (ReadPause r : REASONS) {
            assertEquals(model.contains(r), loop.call(() -> c.isReadingPausedFor(r)), () -> r + " with " + model);
        }
        assertEquals(!model.isEmpty(), c.isReadingPaused(), () -> "isReadingPaused() with " + model);
        writeFully(ch, new byte[]{1});
        sent[0]++;
        if (model.isEmpty()) {
            long deadline = System.nanoTime() + WAIT_SECONDS * 1_000_000_000L;
            while (h.delivered.get() < sent[0] && System.nanoTime() < deadline) {
                loop.barrier();
            }
            assertEquals(sent[0], h.delivered.get(), "all bytes delivered once no reason holds");
        } else {
            long before = h.delivered.get();
            loop.barrier(); // the byte is in the socket's receive queue (loopback): its event, if any, has run
            assertEquals(before, h.delivered.get(), () -> "delivered while paused for " + model);
        }
    }
}
