namespace CuratedIndex.Protocol; public static class Placeholder { }
