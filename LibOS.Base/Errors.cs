// Names of the ABI's error codes, for reports (the runtime has no enum metadata, so
// Enum.ToString() would print the number).
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static class Errors
    {
        public static string Name(Error error)
        {
            switch (error)
            {
                case Error.None: return "None";
                case Error.InvalidArgument: return "InvalidArgument";
                case Error.BadAddress: return "BadAddress";
                case Error.NoMemory: return "NoMemory";
                case Error.NoCapability: return "NoCapability";
                case Error.NotOwner: return "NotOwner";
                case Error.BadEnvironment: return "BadEnvironment";
                case Error.WouldBlock: return "WouldBlock";
                case Error.NoSuchCall: return "NoSuchCall";
                case Error.Busy: return "Busy";
                case Error.NotMapped: return "NotMapped";
                case Error.NoSuchImage: return "NoSuchImage";
                case Error.QuotaExceeded: return "QuotaExceeded";
                case Error.DeviceError: return "DeviceError";
                case Error.NoSuchExtent: return "NoSuchExtent";
                default: return "Error(" + ((long)error).ToString() + ")";
            }
        }
    }
}
