// Error codes returned (negated into RAX) by system calls. Shared by kernel and libOSes.
namespace Aegis.Abi
{
    public enum Error : long
    {
        None = 0,
        /// <summary>An argument is out of range, misaligned, or otherwise malformed.</summary>
        InvalidArgument = -1,
        /// <summary>An address is not in the user half, not mapped, or lacks the needed permission.</summary>
        BadAddress = -2,
        /// <summary>No free frame, slice, capability slot or environment.</summary>
        NoMemory = -3,
        /// <summary>The slot holds no capability, or one of the wrong kind or with too few rights.</summary>
        NoCapability = -4,
        /// <summary>The frame (or slice) is not the caller's, nor granted to it with the needed rights.</summary>
        NotOwner = -5,
        /// <summary>The environment does not exist (any more) or is in the wrong state for the call.</summary>
        BadEnvironment = -6,
        /// <summary>The target cannot take the request now (e.g. already handling a call).</summary>
        WouldBlock = -7,
        /// <summary>No such system call.</summary>
        NoSuchCall = -8,
        /// <summary>The requested frame or slice is taken.</summary>
        Busy = -9,
        /// <summary>The page is not mapped (PageQuery, unmapping).</summary>
        NotMapped = -10,
        /// <summary>No boot image of that name.</summary>
        NoSuchImage = -11,
        /// <summary>The caller's account has no quota left for it (frames, slices, environments or
        /// grants; docs/abi.md, "Accounts"). Other environments are not affected.</summary>
        QuotaExceeded = -12,
        /// <summary>A device failed the request or did not answer in time (block requests).</summary>
        DeviceError = -13,
        /// <summary>No extent of that name on the disk, or the disk holds no extent table.</summary>
        NoSuchExtent = -14,
    }
}
