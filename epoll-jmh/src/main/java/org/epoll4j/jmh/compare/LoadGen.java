package org.epoll4j.jmh.compare;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * A closed-loop echo load generator on the JDK's NIO {@link Selector}, the fallback when the C load generator is not
 * available. Same command line and output line as the C one, so {@link EchoCompare} reads either:
 * {@code LoadGen HOST PORT CONNS DEPTH MSGSIZE SECONDS [WARMUP] [--idle N]} prints
 * {@code msgs_per_s=... p50_us=... p99_us=... p999_us=... errors=...}. Keeps DEPTH messages in flight on each
 * connection, checks every echoed byte against what was sent, measures each message's round trip (send to last
 * byte back). With {@code --idle N} it first opens N connections that never send.
 */
public final class LoadGen {
    private final int depth;
    private final int size;
    private final Histogram rtt = new Histogram(60_000_000_000L, 3);
    private boolean measuring;
    private long msgs;
    private long errors;

    private LoadGen(int depth, int size) {
        this.depth = depth;
        this.size = size;
    }

    /** The byte at offset {@code i} of message {@code seq} on connection {@code id}. */
    static byte expected(int id, long seq, int i) {
        return (byte) (seq * 7 + id * 13L + i);
    }

    /** One active connection's state. */
    private final class Conn {
        final int id;
        final SocketChannel ch;
        final long[] sentAt = new long[depth];
        final ByteBuffer out = ByteBuffer.allocateDirect(depth * size);
        final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
        long sent;
        long received;
        int offset; // bytes of message 'received' checked so far

        Conn(int id, SocketChannel ch) {
            this.id = id;
            this.ch = ch;
            out.flip();
        }

        void send(long now) {
            out.compact();
            for (int i = 0; i < size; i++) {
                out.put(expected(id, sent, i));
            }
            out.flip();
            sentAt[(int) (sent % depth)] = now;
            sent++;
        }

        /** Writes what is queued; true if everything went. */
        boolean flush() throws IOException {
            ch.write(out);
            return !out.hasRemaining();
        }

        /** Reads and checks; returns false at EOF. */
        boolean read(SelectionKey key) throws IOException {
            in.clear();
            int n = ch.read(in);
            if (n < 0) {
                return false;
            }
            long now = System.nanoTime();
            int completed = 0;
            for (int i = 0; i < n; i++) {
                if (in.get(i) != expected(id, received, offset)) {
                    errors++;
                }
                if (++offset == size) {
                    offset = 0;
                    if (measuring) {
                        rtt.recordValue(Math.max(1, now - sentAt[(int) (received % depth)]));
                        msgs++;
                    }
                    received++;
                    completed++;
                }
            }
            for (int i = 0; i < completed; i++) {
                send(now);
            }
            if (completed > 0 && !flush()) {
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
            return true;
        }
    }

    /**
     * Runs the load and prints the result line.
     *
     * @param args HOST PORT CONNS DEPTH MSGSIZE SECONDS [WARMUP] [--idle N]
     * @throws Exception on connection failures
     */
    public static void main(String[] args) throws Exception {
        List<String> pos = new ArrayList<>();
        int idle = 0;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--idle") && i + 1 < args.length) {
                idle = Integer.parseInt(args[++i]);
            } else {
                pos.add(args[i]);
            }
        }
        if (pos.size() < 6) {
            System.err.println("usage: LoadGen HOST PORT CONNS DEPTH MSGSIZE SECONDS [WARMUP] [--idle N]");
            System.exit(2);
        }
        InetSocketAddress addr = new InetSocketAddress(pos.get(0), Integer.parseInt(pos.get(1)));
        int conns = Integer.parseInt(pos.get(2));
        int depth = Integer.parseInt(pos.get(3));
        int size = Integer.parseInt(pos.get(4));
        double seconds = Double.parseDouble(pos.get(5));
        double warmup = pos.size() > 6 ? Double.parseDouble(pos.get(6)) : 1;
        System.out.println(new LoadGen(depth, size).run(addr, conns, idle, seconds, warmup));
    }

    private String run(InetSocketAddress addr, int conns, int idle, double seconds, double warmup)
            throws IOException {
        List<SocketChannel> idles = new ArrayList<>(idle);
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < idle; i++) {
                idles.add(SocketChannel.open(addr));
            }
            List<Conn> active = new ArrayList<>(conns);
            for (int i = 0; i < conns; i++) {
                SocketChannel ch = SocketChannel.open(addr);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.configureBlocking(false);
                Conn c = new Conn(i, ch);
                active.add(c);
                SelectionKey key = ch.register(selector, SelectionKey.OP_READ, c);
                long now = System.nanoTime();
                for (int d = 0; d < depth; d++) {
                    c.send(now);
                }
                if (!c.flush()) {
                    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                }
            }
            long start = System.nanoTime();
            long measureFrom = start + (long) (warmup * 1e9);
            long end = measureFrom + (long) (seconds * 1e9);
            long now = start;
            while (now < end) {
                if (!measuring && now >= measureFrom) {
                    measuring = true;
                }
                selector.select(50);
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    Conn c = (Conn) key.attachment();
                    if (key.isWritable() && c.flush()) {
                        key.interestOps(SelectionKey.OP_READ);
                    }
                    if (key.isReadable() && !c.read(key)) {
                        throw new IOException("server closed connection " + c.id);
                    }
                }
                now = System.nanoTime();
            }
            double secs = (now - Math.max(measureFrom, start)) / 1e9;
            for (Conn c : active) {
                c.ch.close();
            }
            return String.format(Locale.ROOT, "msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%d"
                            + " mean_us=%.1f max_us=%.1f msgs=%d secs=%.2f conns=%d depth=%d size=%d idle=%d"
                            + " loadgen=java",
                    msgs / secs, us(rtt.getValueAtPercentile(50)), us(rtt.getValueAtPercentile(99)),
                    us(rtt.getValueAtPercentile(99.9)), errors, rtt.getMean() / 1e3, us(rtt.getMaxValue()), msgs,
                    secs, conns, depth, size, idle);
        } finally {
            for (SocketChannel ch : idles) {
                ch.close();
            }
        }
    }

    private static double us(long nanos) {
        return nanos / 1e3;
    }
}
