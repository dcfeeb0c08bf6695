namespace CuratedIndex.Protocol.Tests; public class PlaceholderTests { [Fact] public void Builds() { Assert.NotNull(typeof(CuratedIndex.Protocol.Placeholder)); } }
