"""Container Apps data plane: the app token, replica targets, exec sessions and live log streams."""
