package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * One read and/or write budget shared by many connections (libevent's rate-limit groups): together they pass at most
 * the group's {@link RateLimit}, each also within its own {@link RateLimiter} limit if it has one.
 *
 * <p><b>Fairness.</b> The group does not let whoever asks first take everything: on each tick its tokens are shared
 * out evenly among the members waiting for it (those paused or holding bytes because their group allowance ran
 * out), the bytes that do not divide evenly going to members in turn, so no member starves. A member spends its
 * allowance as it reads or writes; a fresh member waits for the next tick to get one.
 *
 * <p><b>Timers.</b> The group ticks on its reactor's timer only while some member waits; with nobody waiting it has
 * no timer at all. Its bucket refills lazily by the ticks elapsed, up to the burst.
 *
 * <p><b>One reactor.</b> A group belongs to the reactor it was built on and is used only on that reactor's thread;
 * its members' connections must live on that reactor ({@link RateLimiter.Builder#build()} checks). For connections
 * spread over several reactors, give each reactor its own group with a share of the budget.
 */
public final class RateLimitGroup {
    private final Reactor reactor;
    private final long tickMillis;
    private final Duration tick;
    private final RateLimit readLimit;
    private final RateLimit writeLimit;
    private final TokenBucket read;
    private final TokenBucket write;
    /** Members to look at on the next tick, in the order they started waiting. */
    private final LinkedHashSet<RateLimiter> waiting = new LinkedHashSet<>();
    private final Runnable onTick = this::onTick;
    private Timeout timer;
    private int turn;
    private long ticks;

    private RateLimitGroup(Builder b) {
        this.reactor = b.reactor;
        this.tick = b.tick;
        this.tickMillis = b.tick.toMillis();
        this.readLimit = b.read;
        this.writeLimit = b.write;
        long now = System.nanoTime();
        this.read = b.read != null ? new TokenBucket(b.read, tickMillis, now) : null;
        this.write = b.write != null ? new TokenBucket(b.write, tickMillis, now) : null;
    }

    /**
     * Starts a group on {@code reactor}.
     *
     * @param reactor the reactor whose connections join it
     * @return a builder
     */
    public static Builder builder(Reactor reactor) {
        return new Builder(Objects.requireNonNull(reactor, "reactor"));
    }

    /** Configures a {@link RateLimitGroup}. */
    public static final class Builder {
        private final Reactor reactor;
        private RateLimit read;
        private RateLimit write;
        private Duration tick = RateLimiter.DEFAULT_TICK;

        private Builder(Reactor reactor) {
            this.reactor = reactor;
        }

        /**
         * Limits what the members read together.
         *
         * @param limit the limit, or {@code null} for none
         * @return this builder
         */
        public Builder read(RateLimit limit) {
            this.read = limit;
            return this;
        }

        /**
         * Limits what the members write together.
         *
         * @param limit the limit, or {@code null} for none
         * @return this builder
         */
        public Builder write(RateLimit limit) {
            this.write = limit;
            return this;
        }

        /**
         * How often the group refills and shares out its tokens while members wait (default 50 ms); its members
         * tick with it.
         *
         * @param tick between 1 ms and 1 s, whole milliseconds
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder tick(Duration tick) {
            this.tick = RateLimiter.checkTick(tick);
            return this;
        }

        /**
         * Builds the group.
         *
         * @return the group
         * @throws IllegalArgumentException if neither limit was set, or a burst is below one tick's refill
         */
        public RateLimitGroup build() {
            if (read == null && write == null) {
                throw new IllegalArgumentException("rate-limit group: set a read or a write limit (or both)");
            }
            if (read != null) {
                read.checkTick(tick.toMillis(), "rate-limit group read limit");
            }
            if (write != null) {
                write.checkTick(tick.toMillis(), "rate-limit group write limit");
            }
            return new RateLimitGroup(this);
        }
    }

    /** The reactor the group belongs to. */
    public Reactor reactor() {
        return reactor;
    }

    /** The group's read limit, or {@code null}. */
    public RateLimit readLimit() {
        return readLimit;
    }

    /** The group's write limit, or {@code null}. */
    public RateLimit writeLimit() {
        return writeLimit;
    }

    /** The tick. */
    public Duration tick() {
        return tick;
    }

    /** Timer ticks run so far (only while members waited). Loop thread. */
    public long ticks() {
        return ticks;
    }

    /** Tick-refills credited to the read bucket so far: the group read at most {@code burst + ceil(rate*tick)} times this, plus one read's overshoot per member. */
    long readRefills() {
        return read == null ? 0 : read.ticks;
    }

    /** Tick-refills credited to the write bucket so far. */
    long writeRefills() {
        return write == null ? 0 : write.ticks;
    }

    /** Whether the group's timer is running (someone waits). Loop thread. */
    boolean isTicking() {
        return timer != null;
    }

    boolean limitsReads() {
        return read != null;
    }

    boolean limitsWrites() {
        return write != null;
    }

    long tickMillis() {
        return tickMillis;
    }

    /** {@code member} waits for tokens (its own or the group's): look at it on the next tick. */
    void wake(RateLimiter member) {
        waiting.add(member);
        if (timer == null) {
            timer = reactor.schedule(tick, onTick);
        }
    }

    void leave(RateLimiter member) {
        waiting.remove(member);
        if (waiting.isEmpty() && timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    private void onTick() {
        timer = null;
        ticks++;
        long now = System.nanoTime();
        List<RateLimiter> members = new ArrayList<>(waiting);
        waiting.clear();
        int start = turn++;
        if (read != null) {
            read.refill(now);
            List<RateLimiter> want = new ArrayList<>();
            for (RateLimiter m : members) {
                if (m.waitsOnGroupRead()) {
                    want.add(m);
                }
            }
            read.tokens -= shareOut(read.tokens, want, start, true);
        }
        if (write != null) {
            write.refill(now);
            List<RateLimiter> want = new ArrayList<>();
            for (RateLimiter m : members) {
                if (m.waitsOnGroupWrite()) {
                    want.add(m);
                }
            }
            write.tokens -= shareOut(write.tokens, want, start, false);
        }
        for (RateLimiter m : members) {
            m.step(); // reads resume, held bytes go out; a member still waiting wakes the group again
        }
    }

    /** Gives {@code tokens} evenly to {@code want}, the remainder one byte each from a rotating start; returns the total given. */
    private static long shareOut(long tokens, List<RateLimiter> want, int start, boolean forRead) {
        int k = want.size();
        if (k == 0 || tokens <= 0) {
            return 0;
        }
        long share = tokens / k;
        long rest = tokens % k;
        int first = Math.floorMod(start, k);
        for (int i = 0; i < k; i++) {
            long give = share + (i < rest ? 1 : 0);
            RateLimiter m = want.get((first + i) % k);
            if (forRead) {
                m.readAllowance += give;
            } else {
                m.writeAllowance += give;
            }
        }
        return tokens;
    }

    @Override
    public String toString() {
        return "RateLimitGroup[read " + readLimit + ", write " + writeLimit + ", tick " + tickMillis + " ms, "
                + waiting.size() + " waiting]";
    }
}
