// Allocation of multi-dimensional arrays ('new T[a, b]'), which ILC routes here by name.
// Layout of a rank-r array: MethodTable pointer, total length (int), padding, r lengths (int),
// r lower bounds (int, always 0 here), then the elements in row-major order. The MethodTable's
// base size covers everything up to the elements.
using System;

namespace Internal.Runtime.CompilerHelpers
{
    internal static unsafe class ArrayHelpers
    {
        public static Array NewObjArray(MethodTable* type, int nDimensions, int* pDimensions)
        {
            int rank = type->ArrayRank;
            if (nDimensions == 2 * rank)
            {
                // The constructor with lower bounds: (lower, length) pairs.
                for (int i = 0; i < rank; i++)
                {
                    if (pDimensions[2 * i] != 0)
                        throw new PlatformNotSupportedException("Arrays with non-zero lower bounds are not supported.");
                    pDimensions[i] = pDimensions[2 * i + 1];
                }
            }
            else if (nDimensions != rank)
            {
                throw new ArgumentException("Wrong number of array dimensions.");
            }
            long total = 1;
            for (int i = 0; i < rank; i++)
            {
                if (pDimensions[i] < 0)
                    throw new OverflowException();
                total *= pDimensions[i];
                if (total > int.MaxValue)
                    throw new OutOfMemoryException();
            }
            Array result = System.Runtime.CompilerServices.Unsafe.As<Array>(Heap.AllocateArray(type, (int)total));
            int* bounds = result.MultiDimensionalBounds;
            for (int i = 0; i < rank; i++)
            {
                bounds[i] = pDimensions[i];
                bounds[rank + i] = 0;
            }
            return result;
        }
    }
}
