// The exception hierarchy. Internal/Runtime/ExceptionHandling/Dispatcher.cs throws and catches
// them; an exception nothing catches ends in Internal.Runtime.RuntimeHost.Fail (a report naming
// the type and the message). Each exception records the code addresses of the frames its last
// throw passed through (pass 1 of the dispatch, up to the catching frame; a rethrow appends),
// as raw addresses: StackTrace names them only when asked, through the host's code-name resolver.
namespace System
{
    public class Exception
    {
        private readonly string _message;
        private readonly Exception _innerException;
        private nint[] _stackFrames;
        private int _stackFrameCount;

        public Exception() { }
        public Exception(string message) { _message = message; }
        public Exception(string message, Exception innerException) { _message = message; _innerException = innerException; }

        public virtual string Message => _message ?? "Exception of type '" + GetType().FullName + "' was thrown.";
        public Exception InnerException => _innerException;
        /// <summary>"   at Method (File.cs:line)" per frame, innermost first, from the throw to the
        /// catching method; frames the host cannot name print as their address. Null before a throw.</summary>
        public virtual string StackTrace
        {
            get
            {
                if (_stackFrames == null || _stackFrameCount == 0) return null;
                var text = new System.Text.StringBuilder();
                for (int i = 0; i < _stackFrameCount; i++)
                {
                    if (i > 0) text.Append('\n');
                    text.Append("   at ");
                    text.Append(Internal.Runtime.RuntimeHost.NameOfCode(_stackFrames[i]));
                }
                return text.ToString();
            }
        }

        internal int StackFrameCount => _stackFrameCount;
        /// <summary>For an exception nothing caught: the return address where the frame walk stopped.</summary>
        internal nint UnwindStoppedAt;
        internal nint StackFrameAt(int index) => _stackFrames[index];

        internal void ResetStackTrace() => _stackFrameCount = 0;

        internal void AppendStackFrame(nint address)
        {
            nint[] frames = _stackFrames;
            if (frames == null)
                _stackFrames = frames = new nint[16];
            else if (_stackFrameCount == frames.Length)
            {
                nint[] larger = new nint[frames.Length * 2];
                for (int i = 0; i < frames.Length; i++) larger[i] = frames[i];
                _stackFrames = frames = larger;
            }
            frames[_stackFrameCount++] = address;
        }
        public override string ToString() => GetType().FullName + ": " + Message;
    }

    public class SystemException : Exception
    {
        public SystemException() : base("System error.") { }
        public SystemException(string message) : base(message) { }
        public SystemException(string message, Exception inner) : base(message, inner) { }
    }

    public class ArithmeticException : SystemException
    {
        public ArithmeticException() : base("Overflow or underflow in the arithmetic operation.") { }
        public ArithmeticException(string message) : base(message) { }
    }

    public class DivideByZeroException : ArithmeticException
    {
        public DivideByZeroException() : base("Attempted to divide by zero.") { }
        public DivideByZeroException(string message) : base(message) { }
    }

    public class OverflowException : ArithmeticException
    {
        public OverflowException() : base("Arithmetic operation resulted in an overflow.") { }
        public OverflowException(string message) : base(message) { }
    }

    public class NullReferenceException : SystemException
    {
        public NullReferenceException() : base("Object reference not set to an instance of an object.") { }
        public NullReferenceException(string message) : base(message) { }
    }

    public class IndexOutOfRangeException : SystemException
    {
        public IndexOutOfRangeException() : base("Index was outside the bounds of the array.") { }
        public IndexOutOfRangeException(string message) : base(message) { }
    }

    public class InvalidCastException : SystemException
    {
        public InvalidCastException() : base("Specified cast is not valid.") { }
        public InvalidCastException(string message) : base(message) { }
    }

    public class ArrayTypeMismatchException : SystemException
    {
        public ArrayTypeMismatchException() : base("Attempted to access an element as a type incompatible with the array.") { }
        public ArrayTypeMismatchException(string message) : base(message) { }
    }

    public class InvalidOperationException : SystemException
    {
        public InvalidOperationException() : base("Operation is not valid due to the current state of the object.") { }
        public InvalidOperationException(string message) : base(message) { }
        public InvalidOperationException(string message, Exception inner) : base(message, inner) { }
    }

    public class NotSupportedException : SystemException
    {
        public NotSupportedException() : base("Specified method is not supported.") { }
        public NotSupportedException(string message) : base(message) { }
    }

    public class PlatformNotSupportedException : NotSupportedException
    {
        public PlatformNotSupportedException() : base("Operation is not supported on this platform.") { }
        public PlatformNotSupportedException(string message) : base(message) { }
    }

    public class NotImplementedException : SystemException
    {
        public NotImplementedException() : base("The method or operation is not implemented.") { }
        public NotImplementedException(string message) : base(message) { }
    }

    public class InvalidProgramException : SystemException
    {
        public InvalidProgramException() : base("Common Language Runtime detected an invalid program.") { }
        public InvalidProgramException(string message) : base(message) { }
    }

    public class OutOfMemoryException : SystemException
    {
        public OutOfMemoryException() : base("Insufficient memory to continue the execution of the program.") { }
        public OutOfMemoryException(string message) : base(message) { }
    }

    public class FormatException : SystemException
    {
        public FormatException() : base("One of the identified items was in an invalid format.") { }
        public FormatException(string message) : base(message) { }
    }

    public class ArgumentException : SystemException
    {
        private readonly string _paramName;
        public ArgumentException() : base("Value does not fall within the expected range.") { }
        public ArgumentException(string message) : base(message) { }
        public ArgumentException(string message, string paramName) : base(message) { _paramName = paramName; }
        public virtual string ParamName => _paramName;
        public override string Message => _paramName == null ? base.Message : base.Message + " (Parameter '" + _paramName + "')";
    }

    public class ArgumentNullException : ArgumentException
    {
        public ArgumentNullException() : base("Value cannot be null.") { }
        public ArgumentNullException(string paramName) : base("Value cannot be null.", paramName) { }
        public ArgumentNullException(string paramName, string message) : base(message, paramName) { }
        public static void ThrowIfNull(object argument, string paramName = null)
        {
            if (argument == null) throw new ArgumentNullException(paramName);
        }
    }

    public class ArgumentOutOfRangeException : ArgumentException
    {
        public ArgumentOutOfRangeException() : base("Specified argument was out of the range of valid values.") { }
        public ArgumentOutOfRangeException(string paramName) : base("Specified argument was out of the range of valid values.", paramName) { }
        public ArgumentOutOfRangeException(string paramName, string message) : base(message, paramName) { }
    }

    public class MemberAccessException : SystemException
    {
        public MemberAccessException() : base("Cannot access member.") { }
        public MemberAccessException(string message) : base(message) { }
    }

    public class MissingMemberException : MemberAccessException
    {
        public MissingMemberException() : base("Member not found.") { }
        public MissingMemberException(string message) : base(message) { }
    }

    public class MissingMethodException : MissingMemberException
    {
        public MissingMethodException() : base("Method not found.") { }
        public MissingMethodException(string message) : base(message) { }
    }

    public class EntryPointNotFoundException : TypeLoadException
    {
        public EntryPointNotFoundException() : base("Entry point was not found.") { }
        public EntryPointNotFoundException(string message) : base(message) { }
    }

    public class TypeLoadException : SystemException
    {
        public TypeLoadException() : base("Failure has occurred while loading a type.") { }
        public TypeLoadException(string message) : base(message) { }
    }

    public class ObjectDisposedException : InvalidOperationException
    {
        public ObjectDisposedException(string objectName) : base("Cannot access a disposed object: " + objectName) { }
    }
}

namespace System.Collections.Generic
{
    public class KeyNotFoundException : SystemException
    {
        public KeyNotFoundException() : base("The given key was not present in the dictionary.") { }
        public KeyNotFoundException(string message) : base(message) { }
    }
}
