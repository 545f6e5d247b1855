package org.epoll4j.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Name resolution off the loop: the JDK's resolver ({@link InetAddress#getAllByName}, which honours
 * {@code /etc/hosts}, {@code nsswitch.conf} and the JDK's own settings) runs on a small bounded pool, never on a
 * reactor thread, and the answer comes back on the reactor that asked. Answers are cached for a fixed time (the
 * JDK does not expose DNS TTLs; the default matches the JDK's own {@code networkaddress.cache.ttl} of 30 s), failures
 * for a shorter one, and concurrent look-ups of one name share one query.
 *
 * <p>{@link TcpClient.Builder#remote(String, int)} uses {@link #system()} unless given another, and races the
 * addresses with happy eyeballs (RFC 8305).
 */
public final class Resolver {
    /** Looks a name up; blocking. The default is {@link InetAddress#getAllByName}. */
    @FunctionalInterface
    public interface Lookup {
        /**
         * @param host a name
         * @return its addresses, in the resolver's order
         * @throws UnknownHostException if it has none
         */
        InetAddress[] lookup(String host) throws UnknownHostException;
    }

    private static final class Holder {
        static final Resolver SYSTEM = builder().build();
    }

    private final Lookup lookup;
    private final Executor pool;
    private final long ttlNanos;
    private final long negativeTtlNanos;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();
    private final LongAdder lookups = new LongAdder();

    private static final class Entry {
        final CompletableFuture<List<InetAddress>> answer;
        volatile long expires = Long.MAX_VALUE; // until the look-up ends: a pending query is shared

        Entry(CompletableFuture<List<InetAddress>> answer) {
            this.answer = answer;
        }
    }

    private Resolver(Builder b) {
        this.lookup = b.lookup;
        this.ttlNanos = b.ttl.toNanos();
        this.negativeTtlNanos = b.negativeTtl.toNanos();
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor p = new ThreadPoolExecutor(b.threads, b.threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "epoll4j-resolver-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        p.allowCoreThreadTimeOut(true); // an idle resolver holds no thread
        this.pool = p;
    }

    /** @return the shared resolver: 4 threads, 30 s cache, 5 s for failures */
    public static Resolver system() {
        return Holder.SYSTEM;
    }

    /** @return a builder for a resolver of your own */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Resolves {@code host}; the future completes on {@code reactor}'s thread. An IP literal is parsed at once, with
     * no look-up.
     *
     * @param host    a name or an IP literal
     * @param reactor where the answer is delivered
     * @return the addresses, in the resolver's order; an {@link UnknownHostException} if there are none
     */
    public CompletableFuture<List<InetAddress>> resolve(String host, Executor reactor) {
        Objects.requireNonNull(reactor, "reactor");
        return resolve(host).whenCompleteAsync((a, e) -> { }, reactor);
    }

    /**
     * Resolves {@code host}; the future completes on a resolver thread (or at once from the cache).
     *
     * @param host a name or an IP literal
     * @return the addresses; an {@link UnknownHostException} if there are none
     */
    public CompletableFuture<List<InetAddress>> resolve(String host) {
        Objects.requireNonNull(host, "host");
        InetAddress literal = literal(host);
        if (literal != null) {
            return CompletableFuture.completedFuture(List.of(literal));
        }
        long now = System.nanoTime();
        while (true) {
            Entry e = cache.get(host);
            if (e != null && e.expires - now > 0) {
                return e.answer.copy();
            }
            Entry fresh = new Entry(new CompletableFuture<>());
            if (e == null ? cache.putIfAbsent(host, fresh) == null : cache.replace(host, e, fresh)) {
                start(host, fresh);
                return fresh.answer.copy();
            }
        }
    }

    private void start(String host, Entry entry) {
        try {
            pool.execute(() -> {
                lookups.increment();
                try {
                    List<InetAddress> all = List.of(lookup.lookup(host));
                    if (all.isEmpty()) {
                        throw new UnknownHostException(host + ": no addresses");
                    }
                    entry.expires = System.nanoTime() + ttlNanos;
                    entry.answer.complete(all);
                } catch (Throwable t) {
                    entry.expires = System.nanoTime() + negativeTtlNanos;
                    entry.answer.completeExceptionally(t);
                }
            });
        } catch (RuntimeException rejected) {
            cache.remove(host, entry);
            entry.answer.completeExceptionally(rejected);
        }
    }

    /** @return how many look-ups ran (cache misses), for tests and statistics */
    public long lookups() {
        return lookups.sum();
    }

    /** Forgets every cached answer. */
    public void clearCache() {
        cache.clear();
    }

    private static InetAddress literal(String host) {
        boolean v6 = host.indexOf(':') >= 0;
        boolean v4 = !v6 && !host.isEmpty() && host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(host.startsWith("[") && host.endsWith("]")
                    ? host.substring(1, host.length() - 1) : host); // a literal: parsed, never looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Orders addresses for a happy-eyeballs race (RFC 8305 section 4): families interleaved, starting with the
     * family of the resolver's first answer, each family keeping its order.
     *
     * @param addresses the resolver's answer
     * @return the order to try them in
     */
    public static List<InetAddress> interleave(List<InetAddress> addresses) {
        if (addresses.isEmpty()) {
            return addresses;
        }
        boolean firstV6 = addresses.get(0) instanceof Inet6Address;
        List<InetAddress> first = new ArrayList<>();
        List<InetAddress> second = new ArrayList<>();
        for (InetAddress a : addresses) {
            ((a instanceof Inet6Address) == firstV6 ? first : second).add(a);
        }
        List<InetAddress> out = new ArrayList<>(addresses.size());
        for (int i = 0; i < Math.max(first.size(), second.size()); i++) {
            if (i < first.size()) {
                out.add(first.get(i));
            }
            if (i < second.size()) {
                out.add(second.get(i));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Resolver[cached=" + cache.size() + ", lookups=" + lookups.sum() + "]";
    }

    /** Settings for a {@link Resolver}. */
    public static final class Builder {
        private Lookup lookup = InetAddress::getAllByName;
        private int threads = 4;
        private Duration ttl = Duration.ofSeconds(30);
        private Duration negativeTtl = Duration.ofSeconds(5);

        private Builder() {
        }

        /**
         * @param lookup how a name is looked up (default {@link InetAddress#getAllByName}); blocking is fine
         * @return this builder
         */
        public Builder lookup(Lookup lookup) {
            this.lookup = Objects.requireNonNull(lookup, "lookup");
            return this;
        }

        /**
         * @param threads how many look-ups may run at once, {@code 1..64} (default 4); more wait their turn
         * @return this builder
         */
        public Builder threads(int threads) {
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("resolver threads must be 1..64: " + threads);
            }
            this.threads = threads;
            return this;
        }

        /**
         * @param ttl how long an answer is reused (default 30 s; zero: not cached)
         * @param negativeTtl how long a failure is reused (default 5 s)
         * @return this builder
         */
        public Builder ttl(Duration ttl, Duration negativeTtl) {
            if (ttl.isNegative() || negativeTtl.isNegative()) {
                throw new IllegalArgumentException("resolver TTLs must not be negative: " + ttl + ", " + negativeTtl);
            }
            this.ttl = ttl;
            this.negativeTtl = negativeTtl;
            return this;
        }

        /** @return the resolver */
        public Resolver build() {
            return new Resolver(this);
        }
    }
}
