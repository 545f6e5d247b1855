package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The bucket against its contract on a simulated clock: whatever the pattern of spending and of time passing, it
 * never holds more than its burst, it never lets more than {@code burst + ceil(rate*tick) * ticks} bytes through,
 * and over whole ticks it credits the exact rate (fractions carried, not lost).
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class TokenBucketTest {
    @Test
    void neverAboveBurstNorAboveTheCountedBound() {
        qt(300, 100).forAll(longs().between(1, 50_000_000), longs().between(1, 200_000), integers().between(1, 100),
                        lists().of(integers().between(0, 400_000)).ofSizeBetween(1, 60))
                .checkAssert((rate, burstExtra, tickMs, steps) -> run(() -> {
                    RateLimit limit = RateLimit.of(rate, limitBurst(rate, tickMs, burstExtra));
                    long now = 0;
                    TokenBucket b = new TokenBucket(limit, tickMs, now);
                    long spent = 0;
                    for (int step : steps) {
                        now += step * 1000L; // step microseconds
                        b.refill(now);
                        assertTrue(b.tokens <= limit.burst(), "tokens " + b.tokens + " above burst");
                        if (b.tokens > 0) { // spend what a writer would: all of it, or a part
                            long take = step % 2 == 0 ? b.tokens : (b.tokens + 1) / 2;
                            b.tokens -= take;
                            spent += take;
                        }
                        long bound = limit.burst() + limit.perTickCeil(tickMs) * b.ticks;
                        assertTrue(spent <= bound, spent + " B spent after " + b.ticks + " ticks, bound " + bound);
                    }
                }));
    }

    @Test
    void wholeTicksCreditTheExactRate() {
        // 1 234 B/s at 10 ms: 12.34 B per tick; 100 ticks (1 s) must credit exactly 1 234 B, fractions carried
        RateLimit limit = RateLimit.of(1234, 2000);
        TokenBucket b = new TokenBucket(limit, 10, 0);
        b.tokens = 0;
        for (int i = 1; i <= 100; i++) {
            b.refill(i * 10_000_000L);
        }
        assertEquals(1234, b.tokens);
        assertEquals(100, b.ticks);
        b.refill(100_000_000L * 1000); // a long idle spell: full, and only the ticks that filled it counted
        assertEquals(2000, b.tokens);
        assertEquals(100 + 63, b.ticks); // ceil(766 / 12.34): the ticks it took to fill, not the spell's length
    }

    /** A burst that holds at least one tick's refill (the builders insist on that). */
    private static long limitBurst(long rate, int tickMs, long extra) {
        return RateLimit.of(rate, 1).perTickCeil(tickMs) + extra;
    }
}
