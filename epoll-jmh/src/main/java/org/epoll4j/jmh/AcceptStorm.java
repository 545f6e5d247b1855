package org.epoll4j.jmh;

import org.epoll4j.ReactorGroup;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServerGroup;
import org.epoll4j.net.TcpServerGroup.AcceptStrategy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Connection-storm benchmark for {@link TcpServerGroup}'s accept strategies: client threads open {@code N}
 * connections as fast as they can against a group of {@code R} reactors; the time until every one of them has
 * been accepted and opened on the server gives the accept rate, and {@link TcpServerGroup#connectionsPerReactor()}
 * the balance. Strategies are interleaved over rounds; the clients reset their connections (SO_LINGER 0) so that no
 * TIME_WAIT piles up between rounds.
 *
 * <pre>
 * java -cp epoll-jmh/target/benchmarks.jar org.epoll4j.jmh.AcceptStorm [reactors=2] [connections=4000]
 *     [clients=2] [rounds=5] [warmup=1]
 * </pre>
 */
public final class AcceptStorm {
    private AcceptStorm() {
    }

    /** Counts opens; echoes nothing (the storm only connects). */
    private static final class Opened implements ConnectionHandler {
        volatile CountDownLatch all;

        @Override
        public void onOpen(Connection connection) {
            all.countDown();
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            data.position(data.limit());
        }
    }

    /**
     * Runs the storm and prints one line per strategy and round, then a markdown summary.
     *
     * @param args {@code key=value} settings: reactors, connections, clients, rounds
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        int reactors = intArg(args, "reactors", 2);
        int connections = intArg(args, "connections", 4000);
        int clients = intArg(args, "clients", 2);
        int rounds = intArg(args, "rounds", 5);
        int warmup = intArg(args, "warmup", 1);
        AcceptStrategy[] strategies = AcceptStrategy.values();
        double[][] rates = new double[strategies.length][rounds];
        double[][] imbalance = new double[strategies.length][rounds];
        String[][] spread = new String[strategies.length][rounds];
        for (int r = -warmup; r < rounds; r++) {
            int round = Math.max(r, 0); // warm-up rounds (r < 0) are overwritten by round 0
            for (int s = 0; s < strategies.length; s++) {
                try (ReactorGroup group = ReactorGroup.builder().size(reactors).name("storm").build()) {
                    Opened h = new Opened();
                    TcpServerGroup server = TcpServerGroup.builder(group).accept(strategies[s]).handler(h).start();
                    h.all = new CountDownLatch(connections);
                    List<SocketChannel> open = new ArrayList<>(connections);
                    long start = System.nanoTime();
                    storm(server.port(), connections, clients, open);
                    if (!h.all.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException(strategies[s] + ": only " + (connections - h.all.getCount())
                                + " of " + connections + " connections opened within 60 s");
                    }
                    long nanos = System.nanoTime() - start;
                    Map<String, Integer> perReactor = server.connectionsPerReactor();
                    rates[s][round] = connections * 1e9 / nanos;
                    int max = perReactor.values().stream().mapToInt(Integer::intValue).max().orElse(0);
                    imbalance[s][round] = max / (connections / (double) reactors);
                    spread[s][round] = perReactor.values().toString();
                    System.out.printf(Locale.ROOT, "%s %-9s %8.0f conn/s  per reactor %s%n",
                            r < 0 ? "warm-up" : "round " + (round + 1),
                            strategies[s], rates[s][round], spread[s][round]);
                    for (SocketChannel c : open) {
                        c.setOption(StandardSocketOptions.SO_LINGER, 0); // RST: no TIME_WAIT left behind
                        c.close();
                    }
                    server.close();
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n%d reactors, %d connections per storm from %d client threads, %d rounds "
                + "(median, min..max)%n%n", reactors, connections, clients, rounds);
        System.out.println("| strategy | accepted conn/s | busiest reactor's share ÷ fair share | per reactor (last round) |");
        System.out.println("|---|---|---|---|");
        for (int s = 0; s < strategies.length; s++) {
            double[] r = rates[s].clone();
            double[] b = imbalance[s].clone();
            Arrays.sort(r);
            Arrays.sort(b);
            System.out.printf(Locale.ROOT, "| %s | %,.0f (%,.0f..%,.0f) | %.2f (%.2f..%.2f) | %s |%n", strategies[s],
                    r[r.length / 2], r[0], r[r.length - 1], b[b.length / 2], b[0], b[b.length - 1],
                    spread[s][rounds - 1]);
        }
    }

    /** Opens {@code n} connections from {@code clients} threads; adds them to {@code open}. */
    private static void storm(int port, int n, int clients, List<SocketChannel> open) throws Exception {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        List<Thread> threads = new ArrayList<>();
        List<List<SocketChannel>> perThread = new ArrayList<>();
        IOException[] failure = new IOException[1];
        for (int t = 0; t < clients; t++) {
            int count = n / clients + (t < n % clients ? 1 : 0);
            List<SocketChannel> mine = new ArrayList<>(count);
            perThread.add(mine);
            Thread thread = new Thread(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        mine.add(SocketChannel.open(address));
                    }
                } catch (IOException e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            }, "storm-client-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        perThread.forEach(open::addAll);
        if (failure[0] != null) {
            for (SocketChannel c : open) {
                c.close();
            }
            throw failure[0];
        }
    }

    private static int intArg(String[] args, String key, int dflt) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return Integer.parseInt(a.substring(key.length() + 1));
            }
        }
        return dflt;
    }
}
