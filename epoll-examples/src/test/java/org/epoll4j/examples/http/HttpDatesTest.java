package org.epoll4j.examples.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** HTTP-date formatting and parsing (all three forms) against java.time. */
class HttpDatesTest {
    private static final DateTimeFormatter IMF = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'",
            Locale.US).withZone(ZoneOffset.UTC);

    @Test
    void formatsAndParsesLikeJavaTime() {
        long seed = 20;
        System.out.println("random seed " + seed);
        Random random = new Random(seed);
        long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        long[] fixed = {0, 784_111_777, 951_782_400 /* 2000-02-29 */, 4_107_542_400L /* 2100-03-01 */, max, -1};
        for (int i = 0; i < 20_000; i++) {
            long s = i < fixed.length ? fixed[i] : Math.floorMod(random.nextLong(), max);
            String expected = IMF.format(Instant.ofEpochSecond(s));
            assertEquals(expected, HttpDates.format(s), "second " + s);
            byte[] b = expected.getBytes(StandardCharsets.US_ASCII);
            assertEquals(s, HttpDates.parse(b, 0, b.length), expected);
        }
    }

    @Test
    void parsesTheObsoleteRfc850AndAsctimeFormsToo() {
        DateTimeFormatter asctime = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US)
                .withZone(ZoneOffset.UTC);
        DateTimeFormatter rfc850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US)
                .withZone(ZoneOffset.UTC);
        Random random = new Random(21);
        long from = Instant.parse("1980-01-01T00:00:00Z").getEpochSecond();
        long to = Instant.parse("2070-01-01T00:00:00Z").getEpochSecond(); // within 50 years: read as this century
        for (int i = 0; i < 5_000; i++) {
            long s = from + Math.floorMod(random.nextLong(), to - from);
            for (DateTimeFormatter f : new DateTimeFormatter[] {asctime, rfc850}) {
                String text = f.format(Instant.ofEpochSecond(s));
                byte[] b = text.getBytes(StandardCharsets.US_ASCII);
                assertEquals(s, HttpDates.parse(b, 0, b.length), text);
            }
        }
        byte[] b = "Sunday, 06-Nov-94 08:49:37 GMT".getBytes(StandardCharsets.US_ASCII);
        assertEquals(784_111_777, HttpDates.parse(b, 0, b.length), "94 is more than 50 years ahead: 1994");
        b = "Sun Nov  6 08:49:37 1994".getBytes(StandardCharsets.US_ASCII);
        assertEquals(784_111_777, HttpDates.parse(b, 0, b.length));
    }

    @Test
    void rejectsWhatIsNoHttpDate() {
        for (String s : new String[] {"", "Sun, 6 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
                "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sunday, 06 Nov 94 08:49:37 GMT",
                "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 0x Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT "}) {
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            assertEquals(-1, HttpDates.parse(b, 0, b.length), s);
        }
    }
}
