package org.epoll4j.internal;

import com.sun.jna.Native;

import java.util.Locale;

/**
 * The platforms the binding is written for, checked before any native call: 64-bit Linux on x86_64 or aarch64.
 *
 * <p>What the binding assumes, and why those two: it is LP64 ({@code long} for {@code size_t}, {@code ssize_t},
 * {@code off_t} and pointers; {@code int} for {@code socklen_t}); its constants are the x86_64 / asm-generic values
 * (O_NONBLOCK 0x800, O_CLOEXEC 0x80000, FIONREAD 0x541B, SOL_SOCKET 1, SO_REUSEPORT 15 ... which MIPS, PowerPC,
 * SPARC, Alpha and PA-RISC redefine, while arm64 takes them from asm-generic); and it binds the variadic
 * {@code open}, {@code fcntl} and {@code ioctl} as fixed-arity functions, which is sound only where variadic
 * integer arguments travel in the same registers as fixed ones (the x86_64 SysV and Linux AAPCS64 ABIs; not, for
 * example, Apple's arm64 ABI). Anything else fails fast here with a clear message rather than misbehaving later.
 */
public final class NativePlatform {
    private static final String SUPPORTED = "epoll4j supports 64-bit Linux on x86_64 and aarch64";

    /** The {@code struct epoll_event} layout of the running platform. */
    public static final EpollEventLayout EPOLL_EVENT;
    private static final String UNSUPPORTED;

    static {
        String why = unsupportedReason(System.getProperty("os.name"), System.getProperty("os.arch"),
                Native.POINTER_SIZE, Native.LONG_SIZE);
        UNSUPPORTED = why;
        EPOLL_EVENT = why == null ? epollEventLayout(System.getProperty("os.arch")) : null;
    }

    private NativePlatform() {
    }

    /** Size and {@code data} offset of {@code struct epoll_event}. */
    public enum EpollEventLayout {
        /** x86_64: the kernel declares the struct packed ({@code __EPOLL_PACKED}), 12 bytes, data at offset 4. */
        PACKED(12, 4),
        /** aarch64 (as every other 64-bit arch): natural alignment, 16 bytes, data at offset 8. */
        ALIGNED(16, 8);

        /** The struct's size. */
        public final int size;
        /** The offset of {@code data.u64}. */
        public final int dataOffset;

        EpollEventLayout(int size, int dataOffset) {
            this.size = size;
            this.dataOffset = dataOffset;
        }
    }

    /**
     * The {@code struct epoll_event} layout for a JVM {@code os.arch} value.
     *
     * @param osArch e.g. "amd64", "x86_64", "aarch64"
     * @return the layout
     * @throws UnsupportedOperationException for any other architecture
     */
    public static EpollEventLayout epollEventLayout(String osArch) {
        String arch = osArch == null ? "" : osArch.toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
                return EpollEventLayout.PACKED;
            case "aarch64":
            case "arm64":
                return EpollEventLayout.ALIGNED;
            default:
                throw new UnsupportedOperationException(SUPPORTED + "; this is os.arch=" + osArch);
        }
    }

    /**
     * Why the binding cannot run on the given platform, or {@code null} if it can.
     *
     * @param osName      the {@code os.name} property
     * @param osArch      the {@code os.arch} property
     * @param pointerSize the native pointer size in bytes
     * @param longSize    the native {@code long} size in bytes
     * @return a message naming what is wrong, or {@code null}
     */
    public static String unsupportedReason(String osName, String osArch, int pointerSize, int longSize) {
        if (osName == null || !osName.equals("Linux")) {
            return SUPPORTED + " (it needs epoll); this is os.name=" + osName;
        }
        try {
            epollEventLayout(osArch);
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        }
        if (pointerSize != 8 || longSize != 8) {
            return SUPPORTED + " with an LP64 ABI; this JVM has " + pointerSize + "-byte pointers and " + longSize
                    + "-byte longs on os.arch=" + osArch;
        }
        return null;
    }

    /**
     * Throws unless this is a supported platform.
     *
     * @throws UnsupportedOperationException naming the platform and what is supported
     */
    public static void requireSupported() {
        if (UNSUPPORTED != null) {
            throw new UnsupportedOperationException(UNSUPPORTED);
        }
    }
}
