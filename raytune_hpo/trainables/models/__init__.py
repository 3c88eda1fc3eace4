"""Plain ``nn.Module`` definitions; sizes come from arguments, never module globals."""
