package org.epoll4j.examples.loadgen;

import org.HdrHistogram.Histogram;
import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.Datagram;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code loadgen --udp}: closed-loop UDP echo load, the same shape as the C {@code udp-loadgen} of the benchmark.
 * {@code --connections} connected {@link DatagramEndpoint}s each keep {@code --depth} datagrams of {@code --size}
 * bytes (at least 16: sequence number, send time, then a pattern) in flight; each echo is checked byte for byte and
 * replaced by a new datagram. A datagram not echoed within 200 ms counts as lost and is replaced, so the load stays
 * constant; an echo that turns up later counts as late. Prints {@code dgrams_per_s=... p50_us=... p99_us=...
 * p999_us=... lost=... errors=...}.
 */
final class UdpLoad {
    private static final long LOST_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private UdpLoad() {
    }

    /** One connected socket and its datagrams in flight; used on its reactor's thread only. */
    static final class Flow implements DatagramHandler {
        final int depth;
        final int size;
        final long[] slotSeq;
        final long[] slotSent;
        final ByteBuffer out;
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        DatagramEndpoint endpoint;
        long received;
        long lost;
        long late;
        long errors;

        Flow(int depth, int size) {
            this.depth = depth;
            this.size = size;
            this.slotSeq = new long[depth];
            this.slotSent = new long[depth];
            this.out = ByteBuffer.allocateDirect(size);
        }

        void begin() {
            for (int i = 0; i < depth; i++) {
                send(i, i);
            }
        }

        private void send(int slot, long seq) {
            long now = System.nanoTime();
            slotSeq[slot] = seq;
            slotSent[slot] = now;
            out.clear();
            out.putLong(0, seq).putLong(8, now);
            for (int k = 16; k < size; k++) {
                out.put(k, (byte) (seq + k));
            }
            endpoint.send(out);
        }

        @Override
        public void onDatagram(DatagramEndpoint ep, Datagram d) {
            ByteBuffer b = d.data();
            int p = b.position();
            if (d.length() != size) {
                errors++;
                return;
            }
            long seq = b.getLong(p);
            int slot = (int) Long.remainderUnsigned(seq, depth);
            if (slotSeq[slot] != seq) {
                late++;
                return;
            }
            for (int k = 16; k < size; k++) {
                if (b.get(p + k) != (byte) (seq + k)) {
                    errors++;
                    break;
                }
            }
            long rtt = System.nanoTime() - b.getLong(p + 8);
            histogram.recordValue(Math.max(1, Math.min(rtt, histogram.getHighestTrackableValue())));
            received++;
            send(slot, seq + depth);
        }

        @Override
        public void onError(DatagramEndpoint ep, EpollException error) {
            errors++;
        }

        /** Replaces datagrams older than 200 ms. */
        void reap() {
            long now = System.nanoTime();
            for (int i = 0; i < depth; i++) {
                if (now - slotSent[i] > LOST_NANOS) {
                    lost++;
                    send(i, slotSeq[i] + depth);
                }
            }
        }
    }

    static int run(InetSocketAddress remote, int sockets, int depth, int size, double warmup, double duration,
                   int reactors, PrintWriter out, PrintWriter err) throws Exception {
        if (size < 16 || size > 65_507) {
            err.println("loadgen: --udp needs --size 16..65507: " + size);
            err.flush();
            return 2;
        }
        ReactorGroup group = ReactorGroup.builder().size(reactors).name("udp-loadgen").daemon(true).build();
        List<Flow> flows = new ArrayList<>();
        try {
            DatagramConfig config = DatagramConfig.builder().batchSize(64).maxDatagramSize(size)
                    .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20).with(SockOpt.SO_SNDBUF, 4 << 20))
                    .build();
            InetSocketAddress any = new InetSocketAddress(remote.getAddress(), 0);
            for (int i = 0; i < sockets; i++) {
                Flow f = new Flow(depth, size);
                Reactor r = group.next();
                f.endpoint = DatagramEndpoint.open(r, any, config, f);
                onLoop(r, () -> {
                    f.endpoint.connect(remote);
                    f.begin();
                    r.schedule(Duration.ofMillis(50), new Runnable() {
                        @Override
                        public void run() {
                            if (f.endpoint.isOpen()) {
                                f.reap();
                                r.schedule(Duration.ofMillis(50), this);
                            }
                        }
                    });
                    return null;
                });
                flows.add(f);
            }
            park((long) (warmup * SECOND));
            for (Flow f : flows) {
                onLoop(f.endpoint.reactor(), () -> {
                    f.histogram.reset();
                    f.received = 0;
                    f.lost = 0;
                    f.late = 0;
                    return null;
                });
            }
            long start = System.nanoTime();
            park((long) (duration * SECOND));
            Histogram total = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            long[] sums = new long[4];
            for (Flow f : flows) {
                onLoop(f.endpoint.reactor(), () -> {
                    total.add(f.histogram);
                    sums[0] += f.received;
                    sums[1] += f.lost;
                    sums[2] += f.late;
                    sums[3] += f.errors;
                    f.endpoint.close();
                    return null;
                });
            }
            double secs = (System.nanoTime() - start) / 1e9;
            out.println(String.format(Locale.ROOT, "dgrams_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f lost=%d "
                            + "errors=%d late=%d mean_us=%.1f max_us=%.1f dgrams=%d secs=%.2f sockets=%d inflight=%d "
                            + "size=%d", sums[0] / secs, total.getValueAtPercentile(50) / 1e3,
                    total.getValueAtPercentile(99) / 1e3, total.getValueAtPercentile(99.9) / 1e3, sums[1], sums[3],
                    sums[2], total.getTotalCount() > 0 ? total.getMean() / 1e3 : 0.0, total.getMaxValue() / 1e3,
                    sums[0], secs, sockets, depth, size));
            out.flush();
            return sums[3] > 0 ? 1 : 0;
        } finally {
            group.close();
        }
    }

    private static void park(long nanos) {
        long end = System.nanoTime() + nanos;
        for (long now; (now = System.nanoTime()) < end; ) {
            LockSupport.parkNanos(end - now);
        }
    }

    private static <T> T onLoop(Reactor r, java.util.concurrent.Callable<T> action) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        r.execute(() -> {
            try {
                f.complete(action.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(30, TimeUnit.SECONDS);
    }
}
