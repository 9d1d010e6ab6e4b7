// The tiny job every pool runs: add one.
export default function addOne(x) {
  return x + 1;
}
