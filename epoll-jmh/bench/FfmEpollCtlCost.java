import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import static java.lang.foreign.ValueLayout.*;

/**
 * epoll_ctl(EPOLL_CTL_MOD) through an FFM downcall, critical against not critical, interleaved in one run: what
 * epoll4j's FFM binding pays for keeping epoll_ctl non-critical (it can sleep on the epoll instance's mutex).
 * Run: java --enable-native-access=ALL-UNNAMED FfmEpollCtlCost.java [millions]
 */
public class FfmEpollCtlCost {
    public static void main(String[] args) throws Throwable {
        Linker l = Linker.nativeLinker();
        SymbolLookup libc = l.defaultLookup();
        FunctionDescriptor ctlD = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
        MethodHandle plain = l.downcallHandle(libc.find("epoll_ctl").orElseThrow(), ctlD);
        MethodHandle critical = l.downcallHandle(libc.find("epoll_ctl").orElseThrow(), ctlD, Linker.Option.critical(false));
        MethodHandle create = l.downcallHandle(libc.find("epoll_create1").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle eventfd = l.downcallHandle(libc.find("eventfd").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        int ep = (int) create.invokeExact(0);
        int fd = (int) eventfd.invokeExact(0, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = a.allocate(12);
            ev.set(JAVA_INT_UNALIGNED, 0, 1);
            int rc = (int) plain.invokeExact(ep, 1, fd, ev); // ADD
            if (rc != 0) throw new IllegalStateException("EPOLL_CTL_ADD failed");
            long n = (args.length > 0 ? Long.parseLong(args[0]) : 5) * 1_000_000L;
            for (int round = 0; round < 6; round++) {
                boolean crit = (round & 1) == 1;
                long t0 = System.nanoTime();
                for (long i = 0; i < n; i++) {
                    ev.set(JAVA_INT_UNALIGNED, 0, (i & 1) == 0 ? 1 : 5);
                    int r = crit ? (int) critical.invokeExact(ep, 3, fd, ev) : (int) plain.invokeExact(ep, 3, fd, ev);
                    if (r != 0) throw new IllegalStateException("EPOLL_CTL_MOD failed");
                }
                double ns = (System.nanoTime() - t0) / (double) n;
                System.out.printf("round %d %-12s %.1f ns per EPOLL_CTL_MOD%n", round, crit ? "critical" : "not critical", ns);
            }
        }
    }
}
