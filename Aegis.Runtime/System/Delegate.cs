// Delegates. ILC generates each delegate type's constructor, Invoke and thunks, and a GetThunk
// override that returns the thunks' addresses; it initialises instances through the
// Initialize* methods below and reads the four fields by name, so their names and order are
// part of the contract (ILC 10).
// Invoke calls _functionPointer with _firstParameter as 'this'. Shapes:
//   closed instance:  _firstParameter = target object, _functionPointer = method.
//   closed static / open static / generic instance: _firstParameter = the delegate itself,
//     _functionPointer = a thunk, _extraFunctionPointerOrData = the method, _helperObject = the
//     bound first argument (closed static) or target (generic instance).
//   multicast: _firstParameter = itself, _functionPointer = the multicast thunk,
//     _helperObject = Wrapper[] invocation list, _extraFunctionPointerOrData = its length.
// Invariant: an invocation list never contains multicast delegates (Combine flattens).
using System.Runtime;

namespace System
{
    public abstract unsafe class Delegate : ICloneable
    {
        private object _firstParameter;
        private object _helperObject;
        private nint _extraFunctionPointerOrData;
        private IntPtr _functionPointer;

        // ILC's multicast thunk reads the invocation list as an array of this struct.
        private struct Wrapper
        {
            public Wrapper(Delegate value) { Value = value; }
            public Delegate Value;
        }

        private protected const int MulticastThunk = 0;
        private protected const int ClosedStaticThunk = 1;
        private protected const int OpenStaticThunk = 2;
        private protected const int ClosedInstanceThunkOverGenericMethod = 3;
        private protected const int OpenInstanceThunk = 4;
        private protected const int ObjectArrayThunk = 5;

        // A function pointer with this bit set is a "fat" pointer: method plus generic context.
        private const nint FatFunctionPointerBit = 2;

        /// <summary>Overridden by ILC in every delegate type.</summary>
        private protected virtual IntPtr GetThunk(int whichThunk) => IntPtr.Zero;

        private void InitializeClosedInstance(object firstParameter, IntPtr functionPointer)
        {
            if (firstParameter is null)
                throw new ArgumentException("Delegate to an instance method cannot have null 'this'.");
            _functionPointer = functionPointer;
            _firstParameter = firstParameter;
        }

        private void InitializeClosedInstanceSlow(object firstParameter, IntPtr functionPointer)
        {
            if (firstParameter is null)
                throw new ArgumentException("Delegate to an instance method cannot have null 'this'.");
            InitializeClosedInstanceWithoutNullCheck(firstParameter, functionPointer);
        }

        private void InitializeClosedInstanceWithoutNullCheck(object firstParameter, IntPtr functionPointer)
        {
            if (((nint)functionPointer & FatFunctionPointerBit) == 0)
            {
                _functionPointer = functionPointer;
                _firstParameter = firstParameter;
            }
            else
            {
                _firstParameter = this;
                _functionPointer = GetThunk(ClosedInstanceThunkOverGenericMethod);
                _extraFunctionPointerOrData = functionPointer;
                _helperObject = firstParameter;
            }
        }

        private void InitializeClosedInstanceWithGVMResolution(object firstParameter, RuntimeMethodHandle tokenOfGenericVirtualMethod)
        {
            if (firstParameter is null)
                throw new NullReferenceException();
            InitializeClosedInstanceWithoutNullCheck(firstParameter, TypeLoaderExports.GVMLookupForSlot(firstParameter, tokenOfGenericVirtualMethod));
        }

        private void InitializeClosedInstanceToInterface(object firstParameter, IntPtr dispatchCell)
        {
            if (firstParameter is null)
                throw new NullReferenceException();
            _functionPointer = CachedInterfaceDispatch.ResolveInterfaceMethod(firstParameter, dispatchCell);
            _firstParameter = firstParameter;
        }

        private void InitializeClosedStaticThunk(object firstParameter, IntPtr functionPointer, IntPtr functionPointerThunk)
        {
            _extraFunctionPointerOrData = functionPointer;
            _helperObject = firstParameter;
            _functionPointer = functionPointerThunk;
            _firstParameter = this;
        }

        private void InitializeOpenStaticThunk(object firstParameter, IntPtr functionPointer, IntPtr functionPointerThunk)
        {
            _firstParameter = this;
            _functionPointer = functionPointerThunk;
            _extraFunctionPointerOrData = functionPointer;
        }

        private void InitializeOpenInstanceThunkDynamic(IntPtr functionPointer, IntPtr functionPointerThunk)
        {
            _firstParameter = this;
            _functionPointer = functionPointerThunk;
            _extraFunctionPointerOrData = functionPointer;
        }

        private Wrapper[] InvocationList => _helperObject as Wrapper[];

        /// <summary>The object an instance method is bound to (the last one's, for a multicast delegate).</summary>
        public object Target
        {
            get
            {
                Wrapper[] list = InvocationList;
                if (list != null)
                    return list[(int)_extraFunctionPointerOrData - 1].Value.Target;
                if (_functionPointer == GetThunk(ClosedStaticThunk) || _functionPointer == GetThunk(ClosedInstanceThunkOverGenericMethod))
                    return _helperObject;
                return ReferenceEquals(_firstParameter, this) ? null : _firstParameter;
            }
        }

        public object Clone() => MemberwiseCopy();

        private Delegate MemberwiseCopy()
        {
            Delegate copy = (Delegate)Internal.Runtime.Heap.AllocateObject(GetMethodTable(), GetMethodTable()->BaseSize);
            copy._firstParameter = ReferenceEquals(_firstParameter, this) ? copy : _firstParameter;
            copy._helperObject = _helperObject;
            copy._extraFunctionPointerOrData = _extraFunctionPointerOrData;
            copy._functionPointer = _functionPointer;
            return copy;
        }

        public Delegate[] GetInvocationList()
        {
            Wrapper[] list = InvocationList;
            if (list == null)
                return new Delegate[] { this };
            int count = (int)_extraFunctionPointerOrData;
            Delegate[] result = new Delegate[count];
            for (int i = 0; i < count; i++)
                result[i] = list[i].Value;
            return result;
        }

        private int InvocationCount => InvocationList == null ? 1 : (int)_extraFunctionPointerOrData;

        private Delegate InvocationAt(int index) => InvocationList == null ? this : InvocationList[index].Value;

        public static Delegate Combine(Delegate a, Delegate b)
        {
            if (a is null) return b;
            if (b is null) return a;
            if (a.GetMethodTable() != b.GetMethodTable())
                throw new ArgumentException("Delegates must be of the same type.");
            int countA = a.InvocationCount, countB = b.InvocationCount;
            Wrapper[] list = new Wrapper[countA + countB];
            for (int i = 0; i < countA; i++)
                list[i] = new Wrapper(a.InvocationAt(i));
            for (int i = 0; i < countB; i++)
                list[countA + i] = new Wrapper(b.InvocationAt(i));
            return a.NewMulticast(list, list.Length);
        }

        public static Delegate Combine(params Delegate[] delegates)
        {
            Delegate result = null;
            if (delegates != null)
                for (int i = 0; i < delegates.Length; i++)
                    result = Combine(result, delegates[i]);
            return result;
        }

        /// <summary>Removes the last occurrence of value's invocation list from source's.</summary>
        public static Delegate Remove(Delegate source, Delegate value)
        {
            if (source is null) return null;
            if (value is null) return source;
            if (source.GetMethodTable() != value.GetMethodTable())
                throw new ArgumentException("Delegates must be of the same type.");
            int sourceCount = source.InvocationCount, valueCount = value.InvocationCount;
            for (int start = sourceCount - valueCount; start >= 0; start--)
            {
                bool match = true;
                for (int i = 0; i < valueCount && match; i++)
                    match = source.InvocationAt(start + i).SingleEquals(value.InvocationAt(i));
                if (!match)
                    continue;
                int remaining = sourceCount - valueCount;
                if (remaining == 0)
                    return null;
                if (remaining == 1)
                    return source.InvocationAt(start == 0 ? sourceCount - 1 : 0);
                Wrapper[] list = new Wrapper[remaining];
                int position = 0;
                for (int i = 0; i < sourceCount; i++)
                    if (i < start || i >= start + valueCount)
                        list[position++] = new Wrapper(source.InvocationAt(i));
                return source.NewMulticast(list, remaining);
            }
            return source;
        }

        public static Delegate RemoveAll(Delegate source, Delegate value)
        {
            Delegate previous;
            do
            {
                previous = source;
                source = Remove(source, value);
            }
            while (!ReferenceEquals(previous, source));
            return source;
        }

        private Delegate NewMulticast(Wrapper[] list, int count)
        {
            Delegate result = (Delegate)Internal.Runtime.Heap.AllocateObject(GetMethodTable(), GetMethodTable()->BaseSize);
            result._firstParameter = result;
            result._helperObject = list;
            result._extraFunctionPointerOrData = count;
            result._functionPointer = GetThunk(MulticastThunk);
            return result;
        }

        private bool SingleEquals(Delegate other)
        {
            if (_functionPointer != other._functionPointer || _extraFunctionPointerOrData != other._extraFunctionPointerOrData)
                return false;
            bool selfBound = ReferenceEquals(_firstParameter, this), otherSelfBound = ReferenceEquals(other._firstParameter, other);
            if (selfBound != otherSelfBound)
                return false;
            return (selfBound || ReferenceEquals(_firstParameter, other._firstParameter)) && ReferenceEquals(_helperObject, other._helperObject);
        }

        public override bool Equals(object obj)
        {
            if (obj is not Delegate other || other.GetMethodTable() != GetMethodTable())
                return false;
            int count = InvocationCount;
            if (count != other.InvocationCount)
                return false;
            for (int i = 0; i < count; i++)
                if (!InvocationAt(i).SingleEquals(other.InvocationAt(i)))
                    return false;
            return true;
        }

        public override int GetHashCode() => (int)GetMethodTable()->HashCode;

        public static bool operator ==(Delegate d1, Delegate d2) => d1 is null ? d2 is null : d1.Equals(d2);
        public static bool operator !=(Delegate d1, Delegate d2) => !(d1 == d2);
    }

    public abstract class MulticastDelegate : Delegate
    {
        public static bool operator ==(MulticastDelegate d1, MulticastDelegate d2) => d1 is null ? d2 is null : d1.Equals((object)d2);
        public static bool operator !=(MulticastDelegate d1, MulticastDelegate d2) => d1 is null ? d2 is not null : !d1.Equals((object)d2);
        public sealed override bool Equals(object obj) => base.Equals(obj);
        public sealed override int GetHashCode() => base.GetHashCode();
    }

    public delegate void Action();
    public delegate void Action<in T>(T obj);
    public delegate void Action<in T1, in T2>(T1 arg1, T2 arg2);
    public delegate void Action<in T1, in T2, in T3>(T1 arg1, T2 arg2, T3 arg3);
    public delegate void Action<in T1, in T2, in T3, in T4>(T1 arg1, T2 arg2, T3 arg3, T4 arg4);
    public delegate TResult Func<out TResult>();
    public delegate TResult Func<in T, out TResult>(T arg);
    public delegate TResult Func<in T1, in T2, out TResult>(T1 arg1, T2 arg2);
    public delegate TResult Func<in T1, in T2, in T3, out TResult>(T1 arg1, T2 arg2, T3 arg3);
    public delegate TResult Func<in T1, in T2, in T3, in T4, out TResult>(T1 arg1, T2 arg2, T3 arg3, T4 arg4);
    public delegate bool Predicate<in T>(T obj);
    public delegate int Comparison<in T>(T x, T y);
}
