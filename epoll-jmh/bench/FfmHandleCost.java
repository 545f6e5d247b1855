import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import static java.lang.foreign.ValueLayout.*;

/**
 * A downcall with captureCallState("errno") through a static final handle against a non-final one, called from the
 * loop directly and from 12 nested calls deep, interleaved in one run: nanoseconds and bytes allocated per call.
 * A final handle's chain is inlined into the caller; nested deep enough, the JIT stops inlining before the errno
 * segment's slice (SharedUtils.checkCaptureSegment) is scalar-replaced, and each call allocates 40 B. A non-final
 * handle's chain is compiled on its own, so it never does (epoll4j's FfmBinding holds its handles that way).
 * The function is labs(3), which makes no system call, so the call overhead is what is measured.
 * Run: java --enable-native-access=ALL-UNNAMED FfmHandleCost.java [millions]
 */
public class FfmHandleCost {
    static final Linker L = Linker.nativeLinker();
    static final MemorySegment LABS = L.defaultLookup().find("labs").orElseThrow();
    static final FunctionDescriptor D = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG);
    static final Linker.Option[] OPTS = {Linker.Option.captureCallState("errno"), Linker.Option.critical(false)};
    static final MethodHandle FINAL = L.downcallHandle(LABS, D, OPTS);
    static MethodHandle nonFinal = L.downcallHandle(LABS, D, OPTS);
    static final MemorySegment SLOT = Arena.global().allocate(Linker.Option.captureStateLayout());
    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static long viaFinal(long x) throws Throwable { return (long) FINAL.invokeExact(SLOT, x); }
    static long viaNonFinal(long x) throws Throwable { return (long) nonFinal.invokeExact(SLOT, x); }
    static long call(boolean fin, long x) throws Throwable { return fin ? viaFinal(x) : viaNonFinal(x); }

    // 12 levels of ordinary (inlinable) calls between the loop and the downcall, like a handler's write
    static long d1(boolean f, long x) throws Throwable { return call(f, x) + 1; }
    static long d2(boolean f, long x) throws Throwable { return d1(f, x) + 1; }
    static long d3(boolean f, long x) throws Throwable { return d2(f, x) + 1; }
    static long d4(boolean f, long x) throws Throwable { return d3(f, x) + 1; }
    static long d5(boolean f, long x) throws Throwable { return d4(f, x) + 1; }
    static long d6(boolean f, long x) throws Throwable { return d5(f, x) + 1; }
    static long d7(boolean f, long x) throws Throwable { return d6(f, x) + 1; }
    static long d8(boolean f, long x) throws Throwable { return d7(f, x) + 1; }
    static long d9(boolean f, long x) throws Throwable { return d8(f, x) + 1; }
    static long d10(boolean f, long x) throws Throwable { return d9(f, x) + 1; }
    static long d11(boolean f, long x) throws Throwable { return d10(f, x) + 1; }
    static long d12(boolean f, long x) throws Throwable { return d11(f, x) + 1; }

    static long run(boolean fin, boolean deep, long n) throws Throwable {
        long sum = 0;
        for (long i = 0; i < n; i++) {
            sum += deep ? d12(fin, -i) : call(fin, -i);
        }
        return sum;
    }

    public static void main(String[] args) throws Throwable {
        long n = (args.length > 0 ? Long.parseLong(args[0]) : 20) * 1_000_000L;
        long sink = 0;
        for (int w = 0; w < 4; w++) { // warm up every variant
            sink += run(true, false, n / 10) + run(false, false, n / 10) + run(true, true, n / 10) + run(false, true, n / 10);
        }
        for (int round = 0; round < 3; round++) {
            for (int v = 0; v < 4; v++) {
                boolean fin = (v & 1) == 0, deep = v >= 2;
                long b0 = THREADS.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
                sink += run(fin, deep, n);
                long t = System.nanoTime() - t0, b = THREADS.getCurrentThreadAllocatedBytes() - b0;
                System.out.printf("round %d %-9s %-13s %6.2f ns  %6.2f B per call%n", round, fin ? "final" : "non-final",
                        deep ? "12 calls deep" : "direct", t / (double) n, b / (double) n);
            }
        }
        if (sink == 42) System.out.println();
    }
}
