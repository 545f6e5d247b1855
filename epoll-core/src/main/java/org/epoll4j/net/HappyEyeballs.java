package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A happy-eyeballs race (RFC 8305) on one reactor: attempts start one by one in {@link Resolver#interleave} order,
 * the next after the attempt delay or at once when the one before fails; the first to open wins, the others are
 * aborted before the user's handler hears of them. The handler sees only the winner.
 */
final class HappyEyeballs {
    private final Reactor reactor;
    private final List<InetAddress> addresses;
    private final int port;
    private final Duration attemptDelay;
    private final ConnectionHandler handler;
    private final Starter starter;
    private final CompletableFuture<Connection> result;
    private final List<CompletableFuture<Connection>> attempts = new ArrayList<>();
    private final List<Throwable> failures = new ArrayList<>();
    private Connection winner;
    private Timeout next;
    private int started;

    /** Starts a single connection attempt. */
    interface Starter {
        CompletableFuture<Connection> start(InetSocketAddress address, ConnectionHandler handler);
    }

    private HappyEyeballs(Reactor reactor, List<InetAddress> addresses, int port, Duration attemptDelay,
                          ConnectionHandler handler, Starter starter, CompletableFuture<Connection> result) {
        this.reactor = reactor;
        this.addresses = Resolver.interleave(addresses);
        this.port = port;
        this.attemptDelay = attemptDelay;
        this.handler = handler;
        this.starter = starter;
        this.result = result;
    }

    /** Runs the race on {@code reactor}'s thread; {@code result} completes with the winner or every failure. */
    static void race(Reactor reactor, List<InetAddress> addresses, int port, Duration attemptDelay,
                     ConnectionHandler handler, Starter starter, CompletableFuture<Connection> result) {
        new HappyEyeballs(reactor, addresses, port, attemptDelay, handler, starter, result).startNext();
    }

    private void startNext() {
        if (winner != null || started == addresses.size()) {
            return;
        }
        if (next != null) {
            next.cancel();
            next = null;
        }
        InetSocketAddress address = new InetSocketAddress(addresses.get(started++), port);
        CompletableFuture<Connection> attempt = starter.start(address, new Attempt());
        attempts.add(attempt);
        attempt.whenComplete((c, e) -> reactor.execute(() -> {
            if (e != null) {
                failures.add(e);
                if (winner == null) {
                    if (started < addresses.size()) {
                        startNext(); // a failure starts the next attempt at once
                    } else if (failures.size() == addresses.size()) {
                        fail();
                    }
                }
            }
        }));
        if (started < addresses.size()) {
            next = reactor.schedule(attemptDelay, this::startNext);
        }
    }

    private void fail() {
        Throwable first = failures.get(0);
        Exception all = new java.net.ConnectException("could not connect to any of " + addresses + " port " + port
                + ": " + first.getMessage());
        for (Throwable t : failures) {
            all.addSuppressed(t);
        }
        result.completeExceptionally(all);
    }

    /** One attempt's handler: forwards to the user's handler once its connection has won. */
    private final class Attempt implements ConnectionHandler {
        private boolean won;

        @Override
        public void onOpen(Connection c) throws Exception {
            if (winner != null) {
                c.abort(); // another attempt won: this one ends unseen
                return;
            }
            winner = c;
            won = true;
            if (next != null) {
                next.cancel();
                next = null;
            }
            handler.onOpen(c);
            result.complete(c);
            for (CompletableFuture<Connection> a : attempts) {
                a.thenAccept(other -> {
                    if (other != c) {
                        other.abort();
                    }
                });
            }
        }

        @Override
        public void onData(Connection c, ByteBuffer data) throws Exception {
            if (won) {
                handler.onData(c, data);
            }
        }

        @Override
        public void onWritabilityChanged(Connection c, boolean writable) throws Exception {
            if (won) {
                handler.onWritabilityChanged(c, writable);
            }
        }

        @Override
        public void onReadHangup(Connection c) throws Exception {
            if (won) {
                handler.onReadHangup(c);
            } else {
                c.abort();
            }
        }

        @Override
        public void onIdle(Connection c, IdleState state) throws Exception {
            if (won) {
                handler.onIdle(c, state);
            } else {
                c.abort();
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            if (won) {
                handler.onClose(c, cause);
            }
        }
    }
}
