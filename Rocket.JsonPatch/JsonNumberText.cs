using System;
using System.Buffers;

namespace Rocket.JsonPatch;

/// <summary>
/// Compares JSON numbers by their mathematical value straight from their text, at any size and precision: RFC 8259
/// puts no limit on either, and RFC 6902 section 4.6 compares numbers by value. .NET's numeric types (and
/// <see cref="System.Text.Json.JsonElement.DeepEquals"/>, which throws past an <see cref="int"/> exponent) cannot.
/// </summary>
internal static class JsonNumberText
{
    /// <summary>Whether two valid JSON number texts denote the same value (<c>1</c>, <c>1.0</c>, <c>10e-1</c>; <c>0</c> and <c>-0</c>).</summary>
    public static bool ValueEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.SequenceEqual(right))
        {
            return true;
        }

        var a = new Parts(left);
        var b = new Parts(right);
        if (a.IsZero || b.IsZero)
        {
            return a.IsZero && b.IsZero;
        }

        return a.Negative == b.Negative
            && a.SignificantDigitCount == b.SignificantDigitCount
            && a.SignificantDigitsEqual(b)
            && a.MagnitudeEquals(b);
    }

    /// <summary>
    /// A number split into sign, significant digits (no leading or trailing zeros) and the exponent of its first
    /// significant digit, which is compared as text so that no exponent is too large.
    /// </summary>
    private readonly ref struct Parts
    {
        private readonly ReadOnlySpan<byte> _integer;
        private readonly ReadOnlySpan<byte> _fraction;
        private readonly ReadOnlySpan<byte> _exponent;
        private readonly bool _exponentNegative;

        // Where the significant digits start and end in integer + fraction, read as one run of digits.
        private readonly int _first;
        private readonly int _last;

        public Parts(ReadOnlySpan<byte> text)
        {
            Negative = text.Length > 0 && text[0] == '-';
            if (Negative)
            {
                text = text[1..];
            }

            var e = text.IndexOfAny((byte)'e', (byte)'E');
            var mantissa = e < 0 ? text : text[..e];
            var exponent = e < 0 ? [] : text[(e + 1)..];
            if (exponent.Length > 0 && (exponent[0] == '-' || exponent[0] == '+'))
            {
                _exponentNegative = exponent[0] == '-';
                exponent = exponent[1..];
            }

            _exponent = exponent.TrimStart((byte)'0');
            var dot = mantissa.IndexOf((byte)'.');
            _integer = dot < 0 ? mantissa : mantissa[..dot];
            _fraction = dot < 0 ? [] : mantissa[(dot + 1)..];

            var length = _integer.Length + _fraction.Length;
            _first = 0;
            while (_first < length && Digit(_first) == '0')
            {
                _first++;
            }

            _last = length - 1;
            while (_last >= _first && Digit(_last) == '0')
            {
                _last--;
            }
        }

        public bool Negative { get; }

        public bool IsZero => _first > _last;

        public int SignificantDigitCount => _last - _first + 1;

        public bool SignificantDigitsEqual(in Parts other)
        {
            for (var i = 0; i < SignificantDigitCount; i++)
            {
                if (Digit(_first + i) != other.Digit(other._first + i))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether the first significant digits stand at the same power of ten: exponent + (integer length - first - 1).</summary>
        public bool MagnitudeEquals(in Parts other)
        {
            // The shift each mantissa adds to its written exponent fits a long; the exponents themselves may not, so the
            // difference of the shifts is applied to the text of one exponent before the two are compared.
            long shift = _integer.Length - _first - 1;
            long otherShift = other._integer.Length - other._first - 1;
            var difference = otherShift - shift;

            // this.exponent == other.exponent + difference, with signs. An exponent may be as long as the body it came in.
            var length = other._exponent.Length + 21;
            byte[]? rented = null;
            var scratch = length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(length));
            try
            {
                var digits = Add(other._exponentNegative, other._exponent, difference, scratch[..length], out var negative);
                return digits.SequenceEqual(_exponent) && (digits.Length == 0 || negative == _exponentNegative);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        private byte Digit(int index) => index < _integer.Length ? _integer[index] : _fraction[index - _integer.Length];

        // (sign, digits) + delta, as sign and digits without leading zeros (empty for zero), written into scratch, which
        // has room for the digits and 21 more. Digits never have leading zeros, and |delta| is below 2^33.
        private static ReadOnlySpan<byte> Add(bool negative, ReadOnlySpan<byte> digits, long delta, Span<byte> scratch, out bool sumNegative)
        {
            if (digits.Length <= 18)
            {
                long value = 0;
                foreach (var d in digits)
                {
                    value = (value * 10) + (d - '0');
                }

                value = (negative ? -value : value) + delta;
                sumNegative = value < 0;
                return Format(Math.Abs(value), scratch);
            }

            // At least 10^18, far above |delta|: the sign stays, and the magnitude moves by |delta|, digit by digit, in
            // the direction the signs say. One leading zero takes a carry out of the top digit.
            var magnitude = scratch[..(digits.Length + 1)];
            magnitude[0] = (byte)'0';
            digits.CopyTo(magnitude[1..]);
            var subtract = negative != (delta < 0);
            var carry = Math.Abs(delta);
            for (var i = magnitude.Length - 1; i >= 0 && carry != 0; i--)
            {
                var d = magnitude[i] - '0' + ((subtract ? -1 : 1) * (int)(carry % 10));
                carry /= 10;
                if (d < 0)
                {
                    d += 10;
                    carry++;
                }
                else if (d > 9)
                {
                    d -= 10;
                    carry++;
                }

                magnitude[i] = (byte)('0' + d);
            }

            sumNegative = negative;
            return magnitude.TrimStart((byte)'0');
        }

        private static ReadOnlySpan<byte> Format(long value, Span<byte> scratch)
        {
            if (value == 0)
            {
                return [];
            }

            var end = scratch.Length;
            var i = end;
            while (value != 0)
            {
                scratch[--i] = (byte)('0' + (value % 10));
                value /= 10;
            }

            return scratch[i..end];
        }
    }
}
